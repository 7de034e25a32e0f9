"""Trimming expired rows, done by the server itself in small batches (no cron job).

Every node runs the same loop; two nodes deleting the same batch is harmless (the second
deletes nothing). Each batch is its own short transaction, so trimming never holds locks
that token requests wait on for long, and a round stops after ``max_batches``.

Tokens and codes are kept for ``grace`` after they expire: while a row exists, a rotated
refresh token or a used code that comes back is still recognised (and its family revoked);
after that it is simply unknown, which is also a refusal.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from piksend.clock import Clock
from piksend.storage import tables as t
from piksend.storage.engine import Database

log = logging.getLogger("piksend.maintenance")

# (table, primary key column, expiry column, keeps rows for `grace` after expiry)
_TRIMMED = (
    (t.Token.__table__, "digest", True),
    (t.AuthorizationCode.__table__, "digest", True),
    (t.PendingAuthorization.__table__, "id", False),
    (t.BrowserSession.__table__, "digest", False),
)


@dataclass(frozen=True)
class TrimPolicy:
    interval: float = 300.0  # seconds between rounds (plus up to 20% jitter)
    batch: int = 1000
    max_batches: int = 50  # per table per round
    grace: timedelta = timedelta(days=1)


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


async def trim_forever(db: Database, *, clock: Clock, policy: TrimPolicy) -> None:
    """The background loop started by the app's lifespan; errors are logged, never fatal."""
    while True:
        await asyncio.sleep(policy.interval * (1 + random.random() * 0.2))
        try:
            deleted = await trim_expired(db, now=clock(), policy=policy)
            if any(deleted.values()):
                log.info("trimmed expired rows: %s", deleted)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("trimming expired rows failed; will try again")
