"""Accounts: sign-up, sign-in (throttled), browser sessions."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts.password_policy import password_problem
from piksend.accounts.passwords import hash_password, verify_password
from piksend.accounts.throttle import SignInThrottle
from piksend.errors import Conflict, ValidationError
from piksend.oauth import tokens
from piksend.storage import tables as t
from piksend.storage.engine import Database

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    name: str
    avatar_url: str | None
    email_verified: bool = False


def _account(row: t.User) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        name=row.name,
        avatar_url=row.avatar_url,
        email_verified=row.email_verified_at is not None,
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_signup(*, email: str, password: str, name: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    email = normalise_email(email)
    if len(email) > 320 or not _EMAIL.fullmatch(email):
        problems["email"] = "Enter a valid email address"
    if password_problem_found := password_problem(password, email=email, name=name):
        problems["password"] = password_problem_found
    if not name.strip():
        problems["name"] = "Enter your name"
    elif len(name.strip()) > 200:
        problems["name"] = "Name must be at most 200 characters"
    return problems


async def create_user(
    session: AsyncSession, *, email: str, password: str, name: str, now: datetime
) -> Account:
    problems = validate_signup(email=email, password=password, name=name)
    if problems:
        field, message = next(iter(problems.items()))
        raise ValidationError(message, field=field)
    email = normalise_email(email)
    exists = await session.scalar(select(func.count()).where(t.User.email == email))
    if exists:
        raise Conflict("An account with this email already exists", field="email")
    row = t.User(
        id=t.new_id("usr"),
        email=email,
        name=name.strip(),
        password_hash=await hash_password(password),
        avatar_url=None,
        created_at=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("An account with this email already exists", field="email") from None
    return _account(row)


async def get_user_by_email(session: AsyncSession, email: str) -> Account | None:
    row = await session.scalar(select(t.User).where(t.User.email == normalise_email(email)))
    return _account(row) if row is not None else None


async def authenticate(
    db: Database,
    throttle: SignInThrottle,
    *,
    email: str,
    password: str,
    address: str,
    device: str | None,
    now: datetime,
) -> Account | None:
    """The account for these credentials, or None. The attempt is counted before its password
    is checked and TooManyRequests raised over a limit (accounts/throttle.py); no connection
    is held while argon2 runs. A disabled account (accounts/admin.py) never signs in, and is
    answered exactly as a wrong password."""
    email = normalise_email(email)
    async with db.reader() as session:
        row = await session.scalar(select(t.User).where(t.User.email == email))
    known = row is not None and throttle.device_account(device, now=now) == row.id
    admission = await throttle.admit(email=email, address=address, known_device=known, now=now)
    ok = await verify_password(row.password_hash if row else None, password)
    if row is None or not ok or row.disabled_at is not None:  # accounts/admin.py: disabled
        return None
    await throttle.forgive(admission)
    return _account(row)


async def start_session(session: AsyncSession, *, user_id: str, now: datetime, ttl: int) -> str:
    value = secrets.token_urlsafe(32)
    session.add(
        t.BrowserSession(
            digest=tokens.digest(value),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    await session.flush()
    return value


async def session_user(session: AsyncSession, value: str | None, now: datetime) -> Account | None:
    if not value or len(value) > 128:
        return None
    row = (
        await session.execute(
            select(t.User)
            .join(t.BrowserSession, t.BrowserSession.user_id == t.User.id)
            .where(
                t.BrowserSession.digest == tokens.digest(value),
                t.BrowserSession.expires_at > now,
                t.User.disabled_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    return _account(row) if row is not None else None


async def end_sessions(session: AsyncSession, *, user_id: str, keep: str | None = None) -> None:
    """Sign the user out everywhere, or everywhere but the session ``keep`` (its cookie value)."""
    statement = delete(t.BrowserSession).where(t.BrowserSession.user_id == user_id)
    if keep:
        statement = statement.where(t.BrowserSession.digest != tokens.digest(keep))
    await session.execute(statement)


async def end_session(session: AsyncSession, value: str | None) -> None:
    if value:
        await session.execute(
            delete(t.BrowserSession).where(t.BrowserSession.digest == tokens.digest(value))
        )
