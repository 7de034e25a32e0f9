"""What an operator does to accounts from the command line: list them, disable one, set a
password.

A disabled account cannot sign in, every one of its browser sessions ends at once (the
sign-in and session checks in :mod:`piksend.accounts.service` read ``disabled_at``) and every
consent it gave an app is revoked with its tokens, so no refresh mints another (RFC 6819
§5.2.2.3: revocation of a user's tokens). A password
set by the operator meets the sign-up policy (NIST SP 800-63B §5.1.1.2) and, like a reset,
signs out every session: whoever held one may be why the password changed (RFC 6819 §5.1.5.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts import links
from piksend.accounts.password_policy import password_problem
from piksend.accounts.passwords import hash_password
from piksend.accounts.service import end_sessions, normalise_email
from piksend.errors import NotFound, ValidationError
from piksend.storage import tables as t
from piksend.storage.oauth import SqlOAuthStore


@dataclass(frozen=True)
class AccountRecord:
    """An account as an operator sees it (never its password hash)."""

    id: str
    email: str
    name: str
    email_verified: bool
    created_at: datetime
    disabled_at: datetime | None


def _record(row: t.User) -> AccountRecord:
    return AccountRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        email_verified=row.email_verified_at is not None,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


async def list_accounts(session: AsyncSession) -> list[AccountRecord]:
    """Every account, oldest first."""
    rows = await session.scalars(select(t.User).order_by(t.User.created_at, t.User.id))
    return [_record(row) for row in rows]


async def _by_email(session: AsyncSession, email: str) -> t.User:
    row = await session.scalar(select(t.User).where(t.User.email == normalise_email(email)))
    if row is None:
        raise NotFound(f"No account with email {normalise_email(email)}")
    return row


async def disable_account(session: AsyncSession, *, email: str, now: datetime) -> AccountRecord:
    """Disable the account: sign-in is refused from now on, every session ends and every
    app's tokens are revoked. Disabling
    a disabled account keeps the time it was first disabled."""
    row = await _by_email(session, email)
    await session.execute(
        update(t.User)
        .where(t.User.id == row.id, t.User.disabled_at.is_(None))
        .values(disabled_at=now)
        .execution_options(synchronize_session=False)
    )
    await end_sessions(session, user_id=row.id)
    consent_ids = (
        await session.scalars(
            select(t.Consent.id).where(t.Consent.user_id == row.id, t.Consent.revoked_at.is_(None))
        )
    ).all()
    store = SqlOAuthStore(session)
    for consent_id in consent_ids:
        await store.revoke_consent(consent_id, now)
    await session.refresh(row)
    return _record(row)


async def set_password(
    session: AsyncSession, *, email: str, password: str, now: datetime
) -> AccountRecord:
    """Replace the password (held to the sign-up policy); every session and every reset link
    of the account ends."""
    row = await _by_email(session, email)
    problem = password_problem(password, email=row.email, name=row.name)
    if problem:
        raise ValidationError(problem, field="password")
    row.password_hash = await hash_password(password)
    await session.flush()
    await end_sessions(session, user_id=row.id)
    await links.retire_all(session, user_id=row.id, purpose=links.Purpose.RESET_PASSWORD, now=now)
    return _record(row)


async def emails_of(session: AsyncSession, user_ids: set[str]) -> dict[str, str]:
    """The e-mail address of each of these accounts (to name the owners of apps)."""
    if not user_ids:
        return {}
    rows = await session.execute(select(t.User.id, t.User.email).where(t.User.id.in_(user_ids)))
    return {user_id: email for user_id, email in rows.tuples()}


async def account_id(session: AsyncSession, *, email: str) -> str:
    """The id of the account with this address; NotFound naming it otherwise."""
    return (await _by_email(session, email)).id
