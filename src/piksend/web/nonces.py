"""One-time form nonces: a form whose answer shows a secret can be acted on once only.

Creating an app and rotating its secret answer with a secret shown once, in that response only
(it is never stored in clear). Their forms carry a nonce issued with the page; the POST claims it
with one conditional UPDATE, so a reload or a re-post can neither act twice nor show a secret
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.oauth import tokens
from piksend.storage import tables as t

FORM_NONCE_TTL = timedelta(hours=2)
FORM_NONCE_KEPT = timedelta(days=2)
CREATE_APP = "create_app"


def rotate_purpose(client_id: str) -> str:
    return f"rotate_secret:{client_id}"[:100]


@dataclass(frozen=True)
class NonceClaim:
    claimed: bool
    already_used: bool = False
    client_id: str | None = None


async def issue_form_nonce(
    session: AsyncSession, *, user_id: str, purpose: str, now: datetime
) -> str:
    await session.execute(delete(t.FormNonce).where(t.FormNonce.expires_at < now - FORM_NONCE_KEPT))
    nonce = tokens.generate(tokens.Prefix.FORM_NONCE, 24)
    session.add(
        t.FormNonce(
            digest=tokens.digest(nonce),
            user_id=user_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + FORM_NONCE_TTL,
        )
    )
    await session.flush()
    return nonce


async def claim_form_nonce(
    session: AsyncSession,
    *,
    user_id: str,
    purpose: str,
    nonce: str,
    now: datetime,
    client_id: str | None = None,
) -> NonceClaim:
    """Use the nonce once; the row count picks the single winner among concurrent posts."""
    if not nonce or len(nonce) > 200:
        return NonceClaim(claimed=False)
    digest = tokens.digest(nonce)
    result = cast(
        CursorResult[Any],
        await session.execute(
            update(t.FormNonce)
            .where(
                t.FormNonce.digest == digest,
                t.FormNonce.user_id == user_id,
                t.FormNonce.purpose == purpose,
                t.FormNonce.used_at.is_(None),
                t.FormNonce.expires_at > now,
            )
            .values(used_at=now, client_id=client_id)
        ),
    )
    if result.rowcount == 1:
        return NonceClaim(claimed=True)
    row = await session.get(t.FormNonce, digest)
    if row is not None and row.user_id == user_id and row.used_at is not None:
        return NonceClaim(claimed=False, already_used=True, client_id=row.client_id)
    return NonceClaim(claimed=False)


async def record_nonce_result(session: AsyncSession, *, nonce: str, client_id: str) -> None:
    """Remember which app the claimed nonce created, for the page a re-post is answered with."""
    await session.execute(
        update(t.FormNonce)
        .where(t.FormNonce.digest == tokens.digest(nonce))
        .values(client_id=client_id)
    )
