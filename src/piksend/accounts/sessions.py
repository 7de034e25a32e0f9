"""The signed-in sessions of an account (issue 14, item 5): the lookup with its idle and
absolute expiry, last seen, and signing out one session or every other one.

OWASP Session Management Cheat Sheet, "Session Expiration": a session ends after an idle
timeout *and* an absolute timeout, both enforced by the server whatever the cookie says, so
a stolen cookie is not good for ever. A session's owner sees each of them (browser, address,
last seen) and can end any one (RFC 6819 §5.1.5.3: the user can revoke what was granted).
Last seen is written at most once a minute (``TOUCH_EVERY``), so a page view is a read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts.service import Account, _account
from piksend.accounts.user_agents import describe
from piksend.oauth import tokens
from piksend.storage import tables as t

TOUCH_EVERY = timedelta(minutes=1)
MAX_USER_AGENT = 300
MAX_ADDRESS = 64


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(days=7)
    absolute: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Current:
    """The signed-in account, and the session (its digest) the cookie names."""

    account: Account
    digest: str
    touch_due: bool


@dataclass(frozen=True)
class SessionView:
    """One session as its owner sees it; ``handle`` names it in the sign-out form."""

    handle: str
    browser: str
    address: str | None
    signed_in_at: datetime
    last_seen_at: datetime
    current: bool


def _last_seen():
    return func.coalesce(t.BrowserSession.last_seen_at, t.BrowserSession.created_at)


def _alive(statement: Select, *, now: datetime, policy: SessionPolicy) -> Select:
    """Sessions that have not expired: by their row, absolutely, and for being idle."""
    session = t.BrowserSession
    return statement.where(
        session.expires_at > now,
        session.created_at > now - policy.absolute,
        _last_seen() > now - policy.idle,
    )


async def lookup(
    session: AsyncSession, value: str | None, *, now: datetime, policy: SessionPolicy
) -> Current | None:
    """The account signed in by the cookie ``value``, or None when the session is unknown,
    expired, idle too long or older than the absolute limit."""
    if not value or len(value) > 128:
        return None
    digest = tokens.digest(value)
    statement = (
        select(t.User, t.BrowserSession.last_seen_at)
        .join(t.BrowserSession, t.BrowserSession.user_id == t.User.id)
        .where(t.BrowserSession.digest == digest)
    )
    row = (await session.execute(_alive(statement, now=now, policy=policy))).one_or_none()
    if row is None:
        return None
    user, last_seen = row
    if getattr(user, "disabled_at", None) is not None:  # accounts/admin.py: no session at all
        return None
    due = last_seen is None or last_seen <= now - TOUCH_EVERY
    return Current(account=_account(user), digest=digest, touch_due=due)


async def touch(
    session: AsyncSession,
    digest: str,
    *,
    address: str | None,
    user_agent: str | None,
    now: datetime,
) -> None:
    """Record that the session was seen now, from here: one conditional UPDATE, which does
    nothing when another request of the same minute already did it."""
    s = t.BrowserSession
    await session.execute(
        update(s)
        .where(
            s.digest == digest, or_(s.last_seen_at.is_(None), s.last_seen_at <= now - TOUCH_EVERY)
        )
        .values(
            last_seen_at=now,
            address=(address or None) and address[:MAX_ADDRESS],
            user_agent=(user_agent or None) and user_agent[:MAX_USER_AGENT],
        )
        .execution_options(synchronize_session=False)
    )


async def describe_new(
    session: AsyncSession, value: str, *, address: str | None, user_agent: str | None, now: datetime
) -> None:
    """Label a session just started (accounts.service.start_session) with where it began."""
    await touch(session, tokens.digest(value), address=address, user_agent=user_agent, now=now)


async def list_sessions(
    session: AsyncSession, *, user_id: str, current: str, now: datetime, policy: SessionPolicy
) -> list[SessionView]:
    """The account's live sessions, this one first, then the most recently seen."""
    s = t.BrowserSession
    statement = select(s).where(s.user_id == user_id)
    rows = (await session.scalars(_alive(statement, now=now, policy=policy))).all()
    views = [
        SessionView(
            handle=row.digest,
            browser=describe(row.user_agent),
            address=row.address,
            signed_in_at=row.created_at,
            last_seen_at=row.last_seen_at or row.created_at,
            current=row.digest == current,
        )
        for row in rows
    ]
    return sorted(views, key=lambda v: (not v.current, -v.last_seen_at.timestamp(), v.handle))


async def sign_out(session: AsyncSession, *, user_id: str, handle: str) -> bool:
    """End the one session ``handle`` of this user; False when there is no such session.
    The user's id is part of the condition: no one ends a session that is not theirs."""
    s = t.BrowserSession
    result = await session.execute(delete(s).where(s.user_id == user_id, s.digest == handle[:64]))
    return bool(getattr(result, "rowcount", 0))


async def sign_out_others(session: AsyncSession, *, user_id: str, current: str) -> int:
    """End every session of this user but ``current`` (a digest); how many ended."""
    s = t.BrowserSession
    result = await session.execute(delete(s).where(s.user_id == user_id, s.digest != current))
    return int(getattr(result, "rowcount", 0))
