"""Bearer token checks for protected resources, RFC 6750 §2.1, §3 and §3.1, RFC 8707 §2
(audience), RFC 9728 §5.1 (``resource_metadata`` in every challenge)."""

from __future__ import annotations

from datetime import datetime

from piksend.oauth import resources, tokens
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
    authorization_header: str | None,
    *,
    grants: GrantStore,
    now: datetime,
    resource: str,
    scope: str | None = None,
) -> TokenRecord:
    """The access token of a request to ``resource`` (one of ``resources.known_resources``),
    holding ``scope`` when one is given. Every error names the resource's metadata (RFC 9728
    §5.1) and, when the request needs a scope, that scope (RFC 6750 §3)."""
    try:
        record = await _active_access_token(authorization_header, grants=grants, now=now)
        # RFC 8707 §2 and the rule of piksend.oauth.resources: a token bound to another
        # resource is not a token for this one.
        if not resources.is_bound_to(record.resource, resource):
            raise BearerTokenError.invalid(resources.NOT_FOR_THIS_RESOURCE)
        if scope is not None:
            require_scope(record, scope)
    except BearerTokenError as exc:
        raise exc.at(resource_metadata=resources.metadata_url(resource), scope=scope) from None
    return record


async def _active_access_token(
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
