"""The developers' tables: their OAuth clients ("apps"), the one-time nonces of the forms that
create and change them, and the "Test your integration" requests in flight."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from piksend.storage.tables.base import Base, UTCDateTime

# A client_id is an app's generated id, or the https URL of its client ID metadata document.
CLIENT_ID_LENGTH = 255
# How an app came to be: a developer registered it (it has an owner), it registered itself
# (RFC 7591, managed with its registration access token) or it is a client ID metadata document.
REGISTERED_VIA_RULE = (
    "(registered_via = 'owner' AND owner_id IS NOT NULL AND registration_token_digest IS NULL)"
    " OR (registered_via = 'dynamic' AND owner_id IS NULL"
    " AND registration_token_digest IS NOT NULL)"
    " OR (registered_via = 'metadata_document' AND owner_id IS NULL"
    " AND registration_token_digest IS NULL AND client_type = 'public')"
)


class Client(Base):
    __tablename__ = "clients"
    # RFC 6749 §2.1: a public client has no secret, a confidential one always has one.
    __table_args__ = (
        CheckConstraint(
            "(client_type = 'public' AND secret_digest IS NULL AND previous_secret_digest IS NULL)"
            " OR (client_type = 'confidential' AND secret_digest IS NOT NULL)",
            name="client_type_secret",
        ),
        CheckConstraint(REGISTERED_VIA_RULE, name="registered_via_owner"),
    )

    id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    registered_via: Mapped[str] = mapped_column(String(20), server_default="owner")
    registration_token_digest: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    logo_url: Mapped[str | None] = mapped_column(String(2000))
    website_url: Mapped[str | None] = mapped_column(String(2000))
    redirect_uris: Mapped[list] = mapped_column(JSON)
    scopes: Mapped[str] = mapped_column(String(500))
    client_type: Mapped[str] = mapped_column(String(20), server_default="confidential")
    secret_digest: Mapped[str | None] = mapped_column(String(64))
    previous_secret_digest: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Issue 15: the operator verified this app (`piksend apps verify`); shown on consent.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Issue 17: what the app page shows of each live secret. The last four characters of a
    # 256-bit value authenticate nothing; last use is written at most once an hour.
    secret_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    secret_last_four: Mapped[str | None] = mapped_column(String(4))
    secret_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_secret_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_secret_last_four: Mapped[str | None] = mapped_column(String(4))
    previous_secret_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClientLogo(Base):
    """An app's logo as piksend serves it: fetched once from ``source_url`` (the app's logo URL
    when it was fetched) and re-encoded as a small PNG; ``png`` is NULL when that fetch failed
    or was not an image, and the letter avatar is shown instead (``piksend.clients.logos``)."""

    __tablename__ = "client_logos"

    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    source_url: Mapped[str] = mapped_column(String(2000))
    png: Mapped[bytes | None] = mapped_column(LargeBinary())
    digest: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FormNonce(Base):
    """A one-time token carried by a form whose replay must not act twice (creating an app,
    rotating its secret): the POST claims it with one conditional UPDATE."""

    __tablename__ = "form_nonces"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_id: Mapped[str | None] = mapped_column(String(CLIENT_ID_LENGTH))


class SecretReveal(Base):
    """A client secret just made, kept for one read by the browser that made it (the page the
    POST redirects to): sealed under a key only that browser's reveal cookie derives, found by
    the cookie's digest, deleted as it is read (``piksend.clients.reveals``)."""

    __tablename__ = "secret_reveals"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(
        String(CLIENT_ID_LENGTH), ForeignKey("clients.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class IntegrationTest(Base):
    """A developer's "Test your integration" request in flight: the PKCE verifier kept on the
    server for a few minutes, found by the digest of the state sent with the request."""

    __tablename__ = "integration_tests"

    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
