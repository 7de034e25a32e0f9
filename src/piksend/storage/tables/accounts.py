"""The accounts' tables: users, their browser sessions, the shared sign-in throttle, the
single-use account tokens (address verification, password reset) stored as SHA-256 digests,
and each account's security log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from piksend.storage.tables.base import Base, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the owner proved they read ``email``; None until then, and again after a change.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When an operator disabled the account (``piksend users disable``): no sign-in, no session.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BrowserSession(Base):
    __tablename__ = "browser_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Issue 14, item 5: what the owner sees of each session (accounts/sessions.py). The address
    # and user agent are the latest seen; ``last_seen_at`` moves at most once a minute.
    user_agent: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SecurityEvent(Base):
    """One entry of an account's security log (accounts/security_log.py): what happened, when,
    from where. ``details`` is a small JSON object that never holds a secret."""

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_user_id_at_id", "user_id", "at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict] = mapped_column(JSON)


class LoginThrottle(Base):
    """Failed sign-in counters, shared by every node through the database."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountToken(Base):
    """A single-use link sent by e-mail: only its SHA-256 digest is stored. ``email`` is the
    address it was sent to, so a link for an address the account no longer has verifies nothing."""

    __tablename__ = "account_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
