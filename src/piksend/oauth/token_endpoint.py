"""The token endpoint: RFC 6749 §3.2 and §5, with one handler per grant type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from piksend.oauth.client_auth import authenticate_client
from piksend.oauth.errors import InvalidRequestError, UnsupportedGrantTypeError
from piksend.oauth.grants.authorization_code import exchange_code
from piksend.oauth.grants.refresh_token import refresh
from piksend.oauth.stores import AuthenticatingClientStore, GrantStore
from piksend.oauth.types import Client, TokenPolicy, TokenResponse

GrantHandler = Callable[..., Awaitable[TokenResponse]]

GRANT_HANDLERS: dict[str, GrantHandler] = {
    "authorization_code": exchange_code,
    "refresh_token": refresh,
}


async def handle_token_request(
    params: Mapping[str, str],
    authorization_header: str | None,
    *,
    clients: AuthenticatingClientStore,
    grants: GrantStore,
    policy: TokenPolicy,
    now: datetime,
) -> TokenResponse:
    grant_type = params.get("grant_type")
    if not grant_type:
        raise InvalidRequestError("grant_type is required")
    client: Client = await authenticate_client(params, authorization_header, clients, now)
    handler = GRANT_HANDLERS.get(grant_type)
    if handler is None:
        raise UnsupportedGrantTypeError(f"grant_type must be one of: {', '.join(GRANT_HANDLERS)}")
    return await handler(params, client, grants=grants, policy=policy, now=now)
