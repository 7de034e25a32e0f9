"""Writing a client secret's last use, after the request that used it and outside its
transaction, so the token, revocation and introspection endpoints add no write of their own.

Client authentication (``piksend.oauth.client_auth``) notes a use only when the use the client
row carries is an hour old or more; this writes it with one conditional UPDATE per use, which
changes nothing when another request already wrote a fresher one, and matches the secret by its
digest, so a rotation in between moves nothing to the wrong secret.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.oauth.client_auth import SECRET_USE_RESOLUTION
from piksend.storage import tables as t
from piksend.storage.unavailable import unavailable_reason

log = logging.getLogger(__name__)

SecretUse = tuple[str, str, datetime]  # client_id, the presented secret's digest, when


async def record(session: AsyncSession, uses: Sequence[SecretUse]) -> int:
    """Write each use whose secret's stored use is stale; the number of rows changed."""
    changed = 0
    for client_id, digest, now in uses:
        stale = now - SECRET_USE_RESOLUTION
        current = and_(
            t.Client.secret_digest == digest,
            or_(t.Client.secret_used_at.is_(None), t.Client.secret_used_at <= stale),
        )
        previous = and_(
            t.Client.previous_secret_digest == digest,
            or_(
                t.Client.previous_secret_used_at.is_(None),
                t.Client.previous_secret_used_at <= stale,
            ),
        )
        result = await session.execute(
            update(t.Client)
            .where(t.Client.id == client_id, or_(current, previous))
            .values(
                secret_used_at=case((current, now), else_=t.Client.secret_used_at),
                previous_secret_used_at=case(
                    (previous, now), else_=t.Client.previous_secret_used_at
                ),
            )
            .execution_options(synchronize_session=False)
        )
        changed += result.rowcount  # type: ignore[attr-defined]
    return changed


async def record_after_response(database, uses: Sequence[SecretUse]) -> None:
    """The background task of a response: a database that is away costs only a late "last
    used" (the next use an hour on writes it), never the response, which was already sent."""
    try:
        async with database.unit_of_work() as session:
            await record(session, uses)
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            log.exception("could not record a client secret's last use")
        else:
            log.warning("client secret last use not recorded: %s", reason)
