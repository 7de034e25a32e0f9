"""Trimming expired rows, done by the server itself in small batches (no cron job).

Every node runs the same loop; two nodes deleting the same batch is harmless (the second
deletes nothing). Each batch is its own short transaction, so trimming never holds locks
that token requests wait on for long, and a round stops after ``max_batches``.

Tokens and codes are kept for ``grace`` after they expire: while a row exists, a rotated
refresh token or a used code that comes back is still recognised (and its family revoked);
after that it is simply unknown, which is also a refusal.

The same loop runs the other sweeps the composition root hands it (the gallery's blob sweep,
``piksend.gallery.blob_sweep``): each is a callable doing one bounded round, so this layer
needs to know nothing of what they sweep.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from piksend.clock import Clock
from piksend.storage import tables as t
from piksend.storage.engine import Database

log = logging.getLogger("piksend.maintenance")

# One bounded round of some other sweep: returns what it removed, by kind.
Sweep = Callable[[], Awaitable[Mapping[str, int]]]

# (table, primary key column, expiry column, keeps rows for `grace` after expiry)
_TRIMMED = (
    (t.Token.__table__, "digest", True),
    (t.AuthorizationCode.__table__, "digest", True),
    (t.PendingAuthorization.__table__, "id", False),
    (t.BrowserSession.__table__, "digest", False),
    # RFC 9700 §4.14.2: a kept successor response goes when its grace window ends.
    (t.RefreshRetry.__table__, "digest", False),
    # A one-time secret display nobody came back for (``piksend.clients.reveals``): unreadable
    # without its browser's cookie, and gone when its ten minutes end.
    (t.SecretReveal.__table__, "digest", False),
)


@dataclass(frozen=True)
class TrimPolicy:
    interval: float = 300.0  # seconds between rounds (plus up to 20% jitter)
    batch: int = 1000
    max_batches: int = 50  # per table per round
    grace: timedelta = timedelta(days=1)
    # Issue 13: an app that registered itself or came from a metadata document, and that no one
    # ever authorized, goes this long after it was created.
    unauthorized_client_ttl: timedelta = timedelta(days=3)


async def trim_expired(db: Database, *, now: datetime, policy: TrimPolicy) -> dict[str, int]:
    """Delete rows that expired (tokens and codes: more than ``grace`` ago), batch by batch."""
    deleted: dict[str, int] = {}
    for table, key, graced in _TRIMMED:
        cutoff = now - policy.grace if graced else now
        pk = table.c[key]
        total = 0
        for _ in range(policy.max_batches):
            doomed = select(pk).where(table.c.expires_at < cutoff).limit(policy.batch)
            async with db.unit_of_work() as s:
                conn = await s.connection()
                result = await conn.execute(delete(table).where(pk.in_(doomed.scalar_subquery())))
            total += result.rowcount
            if result.rowcount < policy.batch:
                break
        deleted[table.name] = total
    return deleted


async def trim_unauthorized_clients(
    db: Database, *, now: datetime, policy: TrimPolicy
) -> dict[str, int]:
    """Delete ownerless apps older than ``unauthorized_client_ttl`` that have no consent, ever:
    a consent row stays (revoked) once given, so an app someone authorized is kept."""
    clients = t.Client.__table__
    consents = t.Consent.__table__
    doomed = (
        select(clients.c.id)
        .where(
            clients.c.owner_id.is_(None),
            clients.c.created_at < now - policy.unauthorized_client_ttl,
            ~select(consents.c.id).where(consents.c.client_id == clients.c.id).exists(),
        )
        .limit(policy.batch)
    )
    total = 0
    for _ in range(policy.max_batches):
        async with db.unit_of_work() as s:
            conn = await s.connection()
            result = await conn.execute(
                delete(clients).where(clients.c.id.in_(doomed.scalar_subquery()))
            )
        total += result.rowcount
        if result.rowcount < policy.batch:
            break
    return {"clients": total}


async def trim_forever(
    db: Database, *, clock: Clock, policy: TrimPolicy, sweeps: Sequence[Sweep] = ()
) -> None:
    """The background loop started by the app's lifespan; errors are logged, never fatal."""
    while True:
        await asyncio.sleep(policy.interval * (1 + random.random() * 0.2))
        await run_round(db, clock=clock, policy=policy, sweeps=sweeps)


async def run_round(
    db: Database, *, clock: Clock, policy: TrimPolicy, sweeps: Sequence[Sweep] = ()
) -> None:
    """One round: the expired rows, then each sweep; one failing does not stop the others."""
    jobs: list[Sweep] = [lambda: trim_expired(db, now=clock(), policy=policy), *sweeps]
    for job in jobs:
        try:
            removed = await job()
            if any(removed.values()):
                log.info("maintenance removed: %s", dict(removed))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a maintenance round failed; will try again")


async def _delete_batches(db: Database, table, key, condition, policy: TrimPolicy) -> int:
    """Delete the rows matching ``condition``, ``policy.batch`` at a time, each batch its own
    short transaction, at most ``policy.max_batches`` in a round."""
    doomed = select(key).where(condition).limit(policy.batch)
    total = 0
    for _ in range(policy.max_batches):
        async with db.unit_of_work() as s:
            conn = await s.connection()
            result = await conn.execute(delete(table).where(key.in_(doomed.scalar_subquery())))
        total += result.rowcount
        if result.rowcount < policy.batch:
            break
    return total


async def trim_security_log(
    db: Database, *, now: datetime, keep: timedelta, policy: TrimPolicy
) -> dict[str, int]:
    """Issue 14, item 5: security events are kept ``keep`` (PIKSEND_SECURITY_LOG_DAYS)."""
    events = t.SecurityEvent.__table__
    removed = await _delete_batches(db, events, events.c.id, events.c.at < now - keep, policy)
    return {"security_events": removed}


async def trim_dead_sessions(
    db: Database, *, now: datetime, idle: timedelta, absolute: timedelta, policy: TrimPolicy
) -> dict[str, int]:
    """Browser sessions that can no longer sign anyone in (accounts/sessions.py): idle for
    longer than ``idle`` or older than ``absolute``. (Past ``expires_at``: ``trim_expired``.)"""
    sessions = t.BrowserSession.__table__
    last_seen = func.coalesce(sessions.c.last_seen_at, sessions.c.created_at)
    dead = or_(last_seen < now - idle, sessions.c.created_at < now - absolute)
    removed = await _delete_batches(db, sessions, sessions.c.digest, dead, policy)
    return {"idle_browser_sessions": removed}
