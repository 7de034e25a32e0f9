"""Bearer token checks for protected resources, RFC 6750 §2.1 and §3.1."""

from __future__ import annotations

from datetime import datetime

from piksend.oauth import tokens
from piksend.oauth.errors import BearerTokenError
from piksend.oauth.stores import GrantStore
from piksend.oauth.types import TokenKind, TokenRecord

MAX_TOKEN_LENGTH = 512


def extract_token(authorization_header: str | None) -> str:
    """RFC 6750 §2.1: ``Authorization: Bearer <b64token>``; only the header form is accepted."""
    if authorization_header is None:
        raise BearerTokenError.missing()
    scheme, _, value = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise BearerTokenError.missing()
    value = value.strip()
    if not value or " " in value or len(value) > MAX_TOKEN_LENGTH:
        raise BearerTokenError.invalid("The access token is malformed")
    return value


async def authenticate_bearer(
    authorization_header: str | None, *, grants: GrantStore, now: datetime
) -> TokenRecord:
    token = extract_token(authorization_header)
    record = await grants.find_token(tokens.digest(token))
    if record is None or record.kind != TokenKind.ACCESS:
        raise BearerTokenError.invalid("The access token is invalid")
    if record.revoked_at is not None:
        raise BearerTokenError.invalid("The access token has been revoked")
    if record.expires_at <= now:
        raise BearerTokenError.invalid("The access token has expired")
    return record


def require_scope(record: TokenRecord, scope: str) -> None:
    if scope not in record.scope:
        raise BearerTokenError.insufficient_scope(scope)
