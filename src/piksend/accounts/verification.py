"""Verified addresses: a sign-up (or a change of address) sends a single-use link; opening it
proves the owner reads the address. Until then apps are told ``email_verified: false``, and an
address someone else has an account on is never taken on an unconfirmed claim."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts import links, security_log
from piksend.accounts.passwords import verify_password
from piksend.accounts.service import normalise_email, validate_signup
from piksend.errors import ValidationError
from piksend.mail import messages, outbox
from piksend.storage import tables as t

VERIFY_TTL = timedelta(hours=24)


class Verified(StrEnum):
    VERIFIED = "verified"
    INVALID = "invalid"  # unknown, used or expired
    TAKEN = "taken"  # the new address got an account of its own meanwhile


def link(base_url: str, path: str, token: str) -> str:
    return f"{base_url}{path}?{urlencode({'token': token})}"


async def send_verification(
    session: AsyncSession, *, user_id: str, email: str, name: str, base_url: str, now: datetime
) -> None:
    """Queue a verification link for ``email``, in the caller's transaction."""
    token = await links.issue(
        session,
        purpose=links.Purpose.VERIFY_EMAIL,
        user_id=user_id,
        email=email,
        ttl=VERIFY_TTL,
        now=now,
    )
    message = messages.verify_address(
        to=email,
        name=name,
        link=link(base_url, "/verify", token),
        hours=int(VERIFY_TTL.total_seconds() // 3600),
    )
    await outbox.enqueue(session, message, now=now)


async def send_address_taken_notice(
    session: AsyncSession, *, owner: t.User, base_url: str, now: datetime
) -> None:
    """Tell the owner of an address that someone tried to sign up (or move) to it."""
    message = messages.signup_attempt(
        to=owner.email,
        name=owner.name,
        login=f"{base_url}/login",
        forgot=f"{base_url}/password/forgot",
    )
    await outbox.enqueue(session, message, now=now)


async def verify_address(
    session: AsyncSession, token: str, *, now: datetime, seen: security_log.Seen | None = None
) -> Verified:
    """Use a verification link once: the account's address becomes the one the link was sent to,
    verified now. A link for an address that meanwhile got an account of its own changes nothing.
    A change of address is written to the account's security log (``seen``: from where)."""
    claimed = await links.claim(session, token, purpose=links.Purpose.VERIFY_EMAIL, now=now)
    if claimed is None:
        return Verified.INVALID
    user = t.User
    previous = await session.scalar(select(user.email).where(user.id == claimed.user_id))
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(user)
                .where(user.id == claimed.user_id)
                .values(email=claimed.email, email_verified_at=now)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        return Verified.TAKEN
    if cast(CursorResult[Any], result).rowcount != 1:
        return Verified.INVALID
    # The other links in flight (an older sign-up link, another change) would move it again.
    await links.retire_all(
        session, user_id=claimed.user_id, purpose=links.Purpose.VERIFY_EMAIL, now=now
    )
    if seen is not None and previous != claimed.email:
        changed = {"from": previous, "to": claimed.email}
        kind = security_log.Kind.EMAIL_CHANGED
        await security_log.record(
            session, user_id=claimed.user_id, kind=kind, seen=seen, now=now, details=changed
        )
    return Verified.VERIFIED


async def request_address_change(
    session: AsyncSession,
    *,
    user_id: str,
    password: str,
    new_email: str,
    base_url: str,
    now: datetime,
) -> str:
    """Ask to move the account to ``new_email``: the change applies when the link sent there is
    opened (it re-verifies). An address with an account of its own gets the owner a notice and
    the caller the same answer, so the form cannot tell which addresses have accounts."""
    row = await session.get_one(t.User, user_id)
    if not await verify_password(row.password_hash, password):
        raise ValidationError("Your current password is not correct", field="password")
    new_email = normalise_email(new_email)
    problem = validate_signup(email=new_email, password="x" * 8, name=row.name).get("email")
    if problem:
        raise ValidationError(problem, field="email")
    if new_email == row.email:
        raise ValidationError("This is already your address", field="email")
    owner = await session.scalar(select(t.User).where(t.User.email == new_email))
    if owner is not None:
        await send_address_taken_notice(session, owner=owner, base_url=base_url, now=now)
    else:
        await send_verification(
            session, user_id=row.id, email=new_email, name=row.name, base_url=base_url, now=now
        )
    return new_email


async def resend_verification(
    session: AsyncSession, *, user_id: str, base_url: str, now: datetime
) -> None:
    """Send the account's current address a new link, unless it is verified already."""
    row = await session.get_one(t.User, user_id)
    if row.email_verified_at is None:
        await send_verification(
            session, user_id=row.id, email=row.email, name=row.name, base_url=base_url, now=now
        )
