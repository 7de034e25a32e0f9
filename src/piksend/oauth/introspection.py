"""Token introspection, RFC 7662 §2 (with ``aud``, the token's RFC 8707 §2 resource)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from piksend.oauth import resources, tokens
from piksend.oauth.errors import InvalidRequestError
from piksend.oauth.stores import GrantStore, UserDirectory
from piksend.oauth.types import Client, TokenKind

INACTIVE: dict[str, object] = {"active": False}


async def introspect(
    params: Mapping[str, str],
    client: Client,
    *,
    grants: GrantStore,
    users: UserDirectory,
    issuer: str,
    now: datetime,
) -> dict[str, object]:
    """RFC 7662 §2.2; a client may introspect only its own tokens (§4: others read inactive)."""
    token = params.get("token")
    if not token:
        raise InvalidRequestError("token is required")
    record = await grants.find_token(tokens.digest(token))
    if record is None or record.client_id != client.client_id or not record.is_active(now):
        return dict(INACTIVE)
    owner = await users.get_profile(record.user_id)
    return {
        "active": True,
        "scope": " ".join(record.scope),
        "client_id": record.client_id,
        "username": owner.email if owner is not None else None,
        # A service-specific member (§2.2 allows them), named as the registered JWT claim
        # (RFC 7519 §4.1 registry, from OpenID Connect Core §5.1): false until the owner
        # proved they read the address.
        "email_verified": owner.email_verified if owner is not None else False,
        "sub": record.user_id,
        "token_type": "Bearer" if record.kind == TokenKind.ACCESS else "refresh_token",
        "exp": int(record.expires_at.timestamp()),
        "iat": int(record.issued_at.timestamp()),
        "iss": issuer,
        # RFC 7662 §2.2 ``aud``: the one resource the token is for (RFC 8707 §2).
        "aud": resources.absolute(record.resource, issuer),
    }
