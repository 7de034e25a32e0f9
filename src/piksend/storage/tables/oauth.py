"""The authorization server's tables: pending requests, consents, codes and tokens.

Every token-like value is stored as its SHA-256 digest, never in the clear; every code and
token row carries its ``consent_id``, so a whole family is revoked by one UPDATE.

``resource`` (RFC 8707 §2) is the absolute URL of the one resource a request, code or token is
for; rows from before migration 0007 hold the path ``/api/v1``, which means this issuer's API
(``piksend.oauth.resources``): the migration cannot know the issuer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from piksend.oauth.resources import API_PATH
from piksend.storage.tables.base import Base, UTCDateTime
from piksend.storage.tables.clients import CLIENT_ID_LENGTH


def _resource() -> Mapped[str]:
    return mapped_column(String(2000), server_default=API_PATH)


class PendingAuthorization(Base):
    __tablename__ = "pending_authorizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(500))
    state: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    resource: Mapped[str] = _resource()


class Consent(Base):
    """The user's approval of one request, and the family of every token born from it."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_consents_user_id_client_id", "user_id", "client_id"),)


class AuthorizationCode(Base):
    __tablename__ = "authorization_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("consents.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(40))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resource: Mapped[str] = _resource()


class Token(Base):
    """Access and refresh tokens in one table, so a family is revoked by one UPDATE."""

    __tablename__ = "tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("consents.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resource: Mapped[str] = _resource()


class RefreshRetry(Base):
    """A rotation's successor response, kept for grace retries of the token it rotated
    (RFC 9700 §4.14.2, ``piksend.oauth.refresh_grace``): sealed under a key derived from that
    token (``storage/oauth/sealed.py``), which no row holds. Dropped at the successor's first
    use, with its consent's revocation, and trimmed when its window ends."""

    __tablename__ = "refresh_retries"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # the rotated token's
    successor_digest: Mapped[str] = mapped_column(String(64), unique=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("consents.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH))
    sealed: Mapped[bytes] = mapped_column(LargeBinary())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
