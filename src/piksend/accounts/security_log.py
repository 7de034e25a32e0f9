"""An account's security log (issue 14, item 5): sign-ins and failed attempts, password and
address changes, apps authorized and revoked, secrets rotated, sessions ended.

Each event is written in the transaction of the change it records, so the log never tells of
a change that was rolled back. Events hold no secret: no password, token, code or cookie,
only what happened, when, from which address and browser (OWASP Logging Cheat Sheet, "Data to
exclude"). The owner pages through them newest first by a keyset cursor (no OFFSET that
shifts as events arrive), downloads them as JSON, and they are trimmed after
``PIKSEND_SECURITY_LOG_DAYS``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.accounts.service import normalise_email
from piksend.storage import tables as t

PAGE_SIZE = 20
EXPORT_LIMIT = 10_000


class Kind(StrEnum):
    SIGNED_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGED = "email_changed"
    APP_AUTHORIZED = "app_authorized"
    APP_REVOKED = "app_revoked"
    SECRET_ROTATED = "secret_rotated"
    SESSION_ENDED = "session_ended"
    OTHER_SESSIONS_ENDED = "other_sessions_ended"


DESCRIPTIONS = {
    Kind.SIGNED_IN: "Signed in",
    Kind.SIGN_IN_FAILED: "Failed sign-in (wrong password)",
    Kind.PASSWORD_CHANGED: "Password changed",
    Kind.PASSWORD_RESET: "Password reset by e-mail link",
    Kind.EMAIL_CHANGED: "E-mail address changed",
    Kind.APP_AUTHORIZED: "App authorized",
    Kind.APP_REVOKED: "App access revoked",
    Kind.SECRET_ROTATED: "Client secret rotated",
    Kind.SESSION_ENDED: "Signed out a session",
    Kind.OTHER_SESSIONS_ENDED: "Signed out everywhere else",
}


@dataclass(frozen=True)
class Seen:
    """Where a request came from: the client's address and its browser, as described by
    ``accounts.user_agents.describe`` (never the raw header)."""

    address: str | None
    browser: str | None


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    at: datetime
    address: str | None
    browser: str | None
    details: dict[str, Any]

    @property
    def description(self) -> str:
        known = {kind.value: text for kind, text in DESCRIPTIONS.items()}
        return known.get(self.kind, self.kind)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "address": self.address,
            "browser": self.browser,
            "details": self.details,
        }


def _values(kind: Kind, seen: Seen, now: datetime, details: dict[str, Any] | None) -> dict:
    return {
        "id": t.new_id("sev"),
        "kind": kind.value,
        "at": now,
        "address": seen.address[:64] if seen.address else None,
        "user_agent": seen.browser[:100] if seen.browser else None,
        "details": dict(details or {}),
    }


async def record(
    session: AsyncSession,
    *,
    user_id: str,
    kind: Kind,
    seen: Seen,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one event to the user's log, in the caller's transaction."""
    values = _values(kind, seen, now, details)
    await session.execute(insert(t.SecurityEvent).values(user_id=user_id, **values))


async def record_failed_sign_in(
    session: AsyncSession, *, email: str, seen: Seen, now: datetime
) -> None:
    """A wrong password for ``email``: logged for the account with that address, if any (one
    INSERT … SELECT, so an address without an account writes nothing and says nothing)."""
    values = _values(Kind.SIGN_IN_FAILED, seen, now, None)
    columns = ["user_id", *values]
    source = select(
        t.User.id,
        *(literal(v, type_=t.SecurityEvent.__table__.c[k].type) for k, v in values.items()),
    ).where(t.User.email == normalise_email(email))
    await session.execute(insert(t.SecurityEvent).from_select(columns, source))


def _event(row: t.SecurityEvent) -> Event:
    return Event(
        id=row.id,
        kind=row.kind,
        at=row.at,
        address=row.address,
        browser=row.user_agent,
        details=dict(row.details or {}),
    )


def _cursor(event: Event) -> str:
    raw = json.dumps([event.at.isoformat(), event.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    """The position a cursor names; None for the first page or a cursor we did not write."""
    if not cursor or len(cursor) > 200:
        return None
    try:
        at, event_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), str(event_id)
    except (ValueError, TypeError, binascii.Error):
        return None


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    next_cursor: str | None


async def list_events(
    session: AsyncSession, *, user_id: str, cursor: str | None = None, limit: int = PAGE_SIZE
) -> EventPage:
    """One page of the user's events, newest first; ``next_cursor`` names the page after it.
    The keyset is (at, id), both in the ordering, so no event is skipped or shown twice."""
    e = t.SecurityEvent
    statement = select(e).where(e.user_id == user_id)
    position = _after(cursor)
    if position is not None:
        at, event_id = position
        statement = statement.where(or_(e.at < at, (e.at == at) & (e.id < event_id)))
    statement = statement.order_by(e.at.desc(), e.id.desc()).limit(limit + 1)
    rows = [_event(row) for row in (await session.scalars(statement)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(events=rows, next_cursor=_cursor(rows[-1]) if more and rows else None)


async def export(session: AsyncSession, *, user_id: str) -> dict[str, Any]:
    """The whole log kept for the user, newest first, as a JSON-ready document."""
    e = t.SecurityEvent
    rows = await session.scalars(
        select(e).where(e.user_id == user_id).order_by(e.at.desc(), e.id.desc()).limit(EXPORT_LIMIT)
    )
    return {"events": [_event(row).as_json() for row in rows.all()]}
