"""The authorization_code grant: RFC 6749 §4.1.3, RFC 7636 §4.5–4.6, RFC 6749 §4.1.2 (replay),
RFC 8707 §2.2 (the code's resource)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from piksend.oauth import pkce, resources, tokens
from piksend.oauth.errors import InvalidGrantError, InvalidRequestError
from piksend.oauth.issuance import mint_tokens
from piksend.oauth.stores import GrantStore
from piksend.oauth.types import Client, TokenPolicy, TokenResponse, Transition

INVALID_CODE = "Invalid authorization code"
CODE_REUSED = "Authorization code has already been used"


async def exchange_code(
    params: Mapping[str, str],
    client: Client,
    *,
    grants: GrantStore,
    policy: TokenPolicy,
    now: datetime,
) -> TokenResponse:
    code = params.get("code")
    if not code:
        raise InvalidRequestError("code is required")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        # RFC 6749 §4.1.3: required because every authorization request carried one.
        raise InvalidRequestError("redirect_uri is required")
    if not params.get("code_verifier"):
        raise InvalidRequestError("code_verifier is required")
    digest = tokens.digest(code)
    record = await grants.find_code(digest)
    if record is None or record.client_id != client.client_id:
        raise InvalidGrantError(INVALID_CODE)
    if record.used_at is not None:
        # RFC 6749 §4.1.2: deny, and revoke every token already issued from this code.
        await grants.revoke_consent(record.consent_id, now)
        raise InvalidGrantError(CODE_REUSED)
    if record.expires_at <= now:
        raise InvalidGrantError("Authorization code has expired")
    if redirect_uri != record.redirect_uri:
        raise InvalidGrantError("redirect_uri does not match the authorization request")
    pkce.verify(params.get("code_verifier"), record.code_challenge)
    # RFC 8707 §2.2: the exchange may repeat the authorization request's resource or omit it,
    # never name another.
    resource = resources.narrowed(
        resources.parse_resource(_values(params, "resource"), policy.issuer),
        record.resource,
        policy.issuer,
    )

    response, new = mint_tokens(
        consent_id=record.consent_id,
        client_id=client.client_id,
        user_id=record.user_id,
        scope=record.scope,
        resource=resource,
        policy=policy,
        now=now,
    )
    # One conditional UPDATE claims the code: of any number of concurrent requests exactly
    # one wins. The consent is checked (and its row locked) before any token row is written,
    # the same order revocation takes, so a concurrent revocation cannot miss the new tokens.
    outcome = await grants.redeem_code(digest, record.consent_id, new, now)
    if outcome is Transition.CLAIM_LOST:
        await grants.revoke_consent(record.consent_id, now)
        raise InvalidGrantError(CODE_REUSED)
    if outcome is Transition.CONSENT_REVOKED:
        raise InvalidGrantError("The authorization has been revoked")
    return response


def _values(params: Mapping[str, str], name: str) -> list[str]:
    return [params[name]] if name in params else []
