"""Single-use account links (address verification, password reset).

Each link carries a 256-bit random token with a recognisable prefix; only its SHA-256 digest is
stored (RFC 6819 §5.1.4.1.3, as for every piksend credential), and it is used at most once: the
claim is one conditional UPDATE whose row count picks the single winner, and it fails once the
token has expired (RFC 6819 §5.1.5.3: short-lived, one-time credentials).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.oauth import tokens
from piksend.storage import tables as t

MAX_TOKEN_LENGTH = 128


class Purpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


PREFIXES = {Purpose.VERIFY_EMAIL: "pks_ev_", Purpose.RESET_PASSWORD: "pks_pr_"}


@dataclass(frozen=True)
class Claimed:
    user_id: str
    email: str


async def issue(
    session: AsyncSession,
    *,
    purpose: Purpose,
    user_id: str,
    email: str,
    ttl: timedelta,
    now: datetime,
) -> str:
    """A new link token for ``purpose``; the caller puts it in a message, nowhere else."""
    value = PREFIXES[purpose] + secrets.token_urlsafe(32)
    session.add(
        t.AccountToken(
            digest=tokens.digest(value),
            purpose=str(purpose),
            user_id=user_id,
            email=email,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return value


async def claim(
    session: AsyncSession, value: str, *, purpose: Purpose, now: datetime
) -> Claimed | None:
    """Use the token once: whoever's UPDATE changes the row wins; others (and late, expired or
    unknown tokens) get None."""
    if not value.startswith(PREFIXES[purpose]) or len(value) > MAX_TOKEN_LENGTH:
        return None
    digest = tokens.digest(value)
    row = t.AccountToken
    result = await session.execute(
        update(row)
        .where(
            row.digest == digest,
            row.purpose == str(purpose),
            row.used_at.is_(None),
            row.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return None
    found = (
        await session.execute(select(row.user_id, row.email).where(row.digest == digest))
    ).one()
    return Claimed(user_id=found.user_id, email=found.email)


@dataclass(frozen=True)
class Owner:
    email: str
    name: str


async def owner_of(
    session: AsyncSession, value: str, *, purpose: Purpose, now: datetime
) -> Owner | None:
    """The account a usable token belongs to (read only: the claim still decides)."""
    if not value.startswith(PREFIXES[purpose]) or len(value) > MAX_TOKEN_LENGTH:
        return None
    row = t.AccountToken
    found = (
        await session.execute(
            select(t.User.email, t.User.name)
            .join(row, row.user_id == t.User.id)
            .where(
                row.digest == tokens.digest(value),
                row.purpose == str(purpose),
                row.used_at.is_(None),
                row.expires_at > now,
            )
        )
    ).one_or_none()
    return Owner(email=found.email, name=found.name) if found is not None else None


async def is_usable(session: AsyncSession, value: str, *, purpose: Purpose, now: datetime) -> bool:
    """Whether a form for this token is worth showing (the claim still decides)."""
    return await owner_of(session, value, purpose=purpose, now=now) is not None


async def retire_all(
    session: AsyncSession, *, user_id: str, purpose: Purpose, now: datetime
) -> None:
    """Mark every unused token of this user and purpose used (a reset ends the others)."""
    row = t.AccountToken
    await session.execute(
        update(row)
        .where(row.user_id == user_id, row.purpose == str(purpose), row.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
