"""Accounts: sign-up, sign-in (throttled), browser sessions."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts.password_policy import password_problem
from piksend.accounts.passwords import MAX_LENGTH, hash_password, verify_password
from piksend.errors import Conflict, TooManyRequests, ValidationError
from piksend.oauth import tokens
from piksend.storage import tables as t

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)


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


def _throttle_key(email: str) -> str:
    return tokens.digest("login:" + normalise_email(email))


async def check_throttle(session: AsyncSession, email: str, now: datetime) -> None:
    row = await session.get(t.LoginThrottle, _throttle_key(email))
    if row and row.failures >= MAX_FAILURES and row.window_started_at + FAILURE_WINDOW > now:
        raise TooManyRequests("Too many failed sign-in attempts. Try again in 15 minutes.")


async def record_failure(session: AsyncSession, email: str, now: datetime) -> None:
    """Count one failure with a single UPSERT: concurrent failures for one address neither
    collide on the first insert nor lose a count (a read-then-write would do both)."""
    table = t.LoginThrottle.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    window_over = table.c.window_started_at <= now - FAILURE_WINDOW
    statement = insert(table).values(key=_throttle_key(email), failures=1, window_started_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case((window_over, 1), else_=table.c.failures + 1),
            "window_started_at": case(
                (window_over, literal(now, t.UTCDateTime())), else_=table.c.window_started_at
            ),
        },
    )
    await session.execute(statement)


async def authenticate(
    session: AsyncSession, *, email: str, password: str, now: datetime
) -> Account | None:
    """The account for these credentials, or None; throttled per e-mail address."""
    await check_throttle(session, email, now)
    row = await session.scalar(select(t.User).where(t.User.email == normalise_email(email)))
    ok = await verify_password(row.password_hash if row else None, password[:MAX_LENGTH])
    if row is None or not ok:
        await record_failure(session, email, now)
        return None
    await session.execute(
        delete(t.LoginThrottle).where(t.LoginThrottle.key == _throttle_key(email))
    )
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
                t.BrowserSession.digest == tokens.digest(value), t.BrowserSession.expires_at > now
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
