"""Token revocation, RFC 7009 §2."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from piksend.oauth import tokens
from piksend.oauth.errors import InvalidRequestError
from piksend.oauth.stores import GrantStore
from piksend.oauth.types import Client, TokenKind


async def revoke(
    params: Mapping[str, str], client: Client, *, grants: GrantStore, now: datetime
) -> None:
    """Revoke the token if it belongs to ``client``; answer the same way for any other token.

    RFC 7009 §2.1: revoking a refresh token invalidates the access tokens of the same
    grant too; §2.2: an invalid or unknown token is not an error. ``token_type_hint`` is
    only a hint (§2.1), and both kinds live in one table, so it is accepted and unneeded.
    """
    token = params.get("token")
    if not token:
        raise InvalidRequestError("token is required")
    record = await grants.find_token(tokens.digest(token))
    if record is None or record.client_id != client.client_id:
        return
    if record.kind == TokenKind.REFRESH:
        await grants.revoke_consent(record.consent_id, now)
    else:
        await grants.revoke_token(record.digest, now)
