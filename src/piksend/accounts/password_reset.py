"""The password lifecycle: reset by a link sent by e-mail, change with the current password.

A reset link is single-use, expires after 30 minutes and is stored as a digest
(:mod:`piksend.accounts.links`); using it signs out every session, since whoever held one may
be the reason for the reset (RFC 6819 §5.1.5.3). A change needs the current password and signs
out the other sessions. Asking for a reset answers the same whether or not the address has an
account: only the owner learns, from the e-mail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts import links, security_log
from piksend.accounts.password_policy import password_problem
from piksend.accounts.passwords import hash_password, verify_password
from piksend.accounts.service import end_sessions, normalise_email
from piksend.accounts.verification import link
from piksend.errors import ValidationError
from piksend.mail import messages, outbox
from piksend.storage import tables as t

RESET_TTL = timedelta(minutes=30)


async def request_reset(session: AsyncSession, *, email: str, base_url: str, now: datetime) -> None:
    """Send a reset link if ``email`` has an account; nothing otherwise (same answer)."""
    row = await session.scalar(select(t.User).where(t.User.email == normalise_email(email)))
    if row is None:
        return
    token = await links.issue(
        session,
        purpose=links.Purpose.RESET_PASSWORD,
        user_id=row.id,
        email=row.email,
        ttl=RESET_TTL,
        now=now,
    )
    message = messages.password_reset(
        to=row.email,
        name=row.name,
        link=link(base_url, "/password/reset", token),
        minutes=int(RESET_TTL.total_seconds() // 60),
    )
    await outbox.enqueue(session, message, now=now)


async def reset_password(
    session: AsyncSession,
    *,
    token: str,
    password: str,
    now: datetime,
    seen: security_log.Seen | None = None,
) -> bool:
    """Use a reset link once to set ``password``; every session of the account ends.
    False when the link is unknown, used or expired. The new password meets the sign-up policy
    (NIST SP 800-63B §5.1.1.2); it is checked and hashed before the claim, so the write comes
    last and a refused password leaves the link usable."""
    owner = await links.owner_of(session, token, purpose=links.Purpose.RESET_PASSWORD, now=now)
    if owner is None:
        return False
    problem = password_problem(password, email=owner.email, name=owner.name)
    if problem:
        raise ValidationError(problem, field="password")
    password_hash = await hash_password(password)
    claimed = await links.claim(session, token, purpose=links.Purpose.RESET_PASSWORD, now=now)
    if claimed is None:
        return False
    await session.execute(
        update(t.User)
        .where(t.User.id == claimed.user_id)
        .values(password_hash=password_hash)
        .execution_options(synchronize_session=False)
    )
    await links.retire_all(
        session, user_id=claimed.user_id, purpose=links.Purpose.RESET_PASSWORD, now=now
    )
    await end_sessions(session, user_id=claimed.user_id)
    if seen is not None:
        kind = security_log.Kind.PASSWORD_RESET
        await security_log.record(session, user_id=claimed.user_id, kind=kind, seen=seen, now=now)
    return True


async def change_password(
    session: AsyncSession,
    *,
    user_id: str,
    current: str,
    new: str,
    keep_session: str | None,
    base_url: str,
    now: datetime,
) -> None:
    """Replace the password after checking the current one; the other sessions end and the
    owner is told by e-mail."""
    row = await session.get_one(t.User, user_id)
    if not await verify_password(row.password_hash, current):
        raise ValidationError("Your current password is not correct", field="current_password")
    problem = password_problem(new, email=row.email, name=row.name)
    if problem:
        raise ValidationError(problem, field="new_password")
    row.password_hash = await hash_password(new)
    await session.flush()
    await end_sessions(session, user_id=user_id, keep=keep_session)
    await links.retire_all(session, user_id=user_id, purpose=links.Purpose.RESET_PASSWORD, now=now)
    message = messages.password_changed(
        to=row.email, name=row.name, forgot=f"{base_url}/password/forgot"
    )
    await outbox.enqueue(session, message, now=now)
