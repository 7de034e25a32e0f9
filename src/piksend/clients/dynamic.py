"""Apps that register themselves: RFC 7591 §3 (register), RFC 7592 §2.1 (read), §2.3 (delete).

Such an app has no owner account. It is managed only with the registration access token handed
out once at registration and stored as its SHA-256 digest; an app that no one authorized within
a few days is trimmed (``storage.maintenance``).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.oauth import tokens
from piksend.oauth.errors import BearerTokenError
from piksend.oauth.registration import GRANT_TYPES, RESPONSE_TYPES, ClientMetadata
from piksend.oauth.types import ClientType, RegisteredVia
from piksend.storage import tables as t
from piksend.storage.tables.clients import CLIENT_ID_LENGTH

REGISTRATION_PATH = "/api/oauth/register"
REGISTRATION_TOKEN_PREFIX = "pks_rg_"


def registration_client_uri(issuer: str, client_id: str) -> str:
    return f"{issuer}{REGISTRATION_PATH}/{client_id}"


async def register(
    session: AsyncSession, *, metadata: ClientMetadata, issuer: str, now: datetime
) -> dict[str, object]:
    """Store the app; RFC 7591 §3.2.1's response, with the secret (confidential apps only) and
    the registration access token, neither of which is ever shown again."""
    public = metadata.client_type is ClientType.PUBLIC
    secret = None if public else tokens.generate(tokens.Prefix.CLIENT_SECRET)
    registration_token = f"{REGISTRATION_TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
    row = t.Client(
        id=tokens.generate_client_id(),
        owner_id=None,
        registered_via=RegisteredVia.DYNAMIC.value,
        registration_token_digest=tokens.digest(registration_token),
        name=metadata.client_name,
        description="",
        logo_url=metadata.logo_uri,
        website_url=metadata.client_uri,
        redirect_uris=list(metadata.redirect_uris),
        scopes=" ".join(metadata.scope),
        client_type=metadata.client_type.value,
        secret_digest=None if secret is None else tokens.digest(secret),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    body = _view(row, issuer)
    body["token_endpoint_auth_method"] = metadata.token_endpoint_auth_method
    if secret is not None:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: it does not expire
    body["registration_access_token"] = registration_token
    return body


async def read(
    session: AsyncSession, *, client_id: str, registration_token: str | None, issuer: str
) -> dict[str, object]:
    """RFC 7592 §2.1: the app's current registration, for the holder of its token."""
    row = await _authorized(session, client_id, registration_token)
    body = _view(row, issuer)
    body["registration_access_token"] = registration_token
    return body


async def remove(session: AsyncSession, *, client_id: str, registration_token: str | None) -> None:
    """RFC 7592 §2.3: the app, its consents and every token born from them are gone."""
    row = await _authorized(session, client_id, registration_token)
    await session.execute(delete(t.Client).where(t.Client.id == row.id))


async def _authorized(session: AsyncSession, client_id: str, token: str | None) -> t.Client:
    """RFC 7592 §2: an invalid token, or an app that does not exist, is 401 in RFC 6750's terms."""
    if token is None:
        raise BearerTokenError.missing()
    row = await session.get(t.Client, client_id) if len(client_id) <= CLIENT_ID_LENGTH else None
    if (
        row is None
        or row.registration_token_digest is None
        or not hmac.compare_digest(row.registration_token_digest, tokens.digest(token))
    ):
        raise BearerTokenError.invalid("The registration access token is not valid")
    return row


def _view(row: t.Client, issuer: str) -> dict[str, object]:
    public = row.client_type == ClientType.PUBLIC.value
    body: dict[str, object] = {
        "client_id": row.id,
        "client_id_issued_at": int(row.created_at.timestamp()),
        "client_name": row.name,
        "redirect_uris": list(row.redirect_uris or ()),
        "token_endpoint_auth_method": "none" if public else "client_secret_basic",
        "grant_types": list(GRANT_TYPES),
        "response_types": list(RESPONSE_TYPES),
        "scope": row.scopes,
        "registration_client_uri": registration_client_uri(issuer, row.id),
    }
    if row.website_url:
        body["client_uri"] = row.website_url
    if row.logo_url:
        body["logo_uri"] = row.logo_url
    return body
