"""The refresh_token grant: RFC 6749 §6, rotation and reuse detection per RFC 9700 §4.14.2,
RFC 8707 §2.2 (a refresh keeps the grant's resource)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from piksend.oauth import grant_lifetime, resources, scopes, tokens
from piksend.oauth.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from piksend.oauth.issuance import mint_tokens
from piksend.oauth.stores import GrantStore
from piksend.oauth.types import Client, TokenKind, TokenPolicy, TokenResponse, Transition

INVALID_REFRESH = "Invalid refresh token"
REFRESH_REUSED = "Refresh token has already been used; the authorization has been revoked"


async def refresh(
    params: Mapping[str, str],
    client: Client,
    *,
    grants: GrantStore,
    policy: TokenPolicy,
    now: datetime,
) -> TokenResponse:
    presented = params.get("refresh_token")
    if not presented:
        raise InvalidRequestError("refresh_token is required")
    digest = tokens.digest(presented)
    record = await grants.find_token(digest)
    if record is None or record.kind != TokenKind.REFRESH or record.client_id != client.client_id:
        raise InvalidGrantError(INVALID_REFRESH)
    if record.revoked_at is not None:
        raise InvalidGrantError("Refresh token has been revoked")
    if record.rotated_at is not None:
        # RFC 9700 §4.14.2: a rotated refresh token came back; revoke the whole family.
        await grants.revoke_consent(record.consent_id, now)
        raise InvalidGrantError(REFRESH_REUSED)
    if record.expires_at <= now:
        raise InvalidGrantError("Refresh token has expired")
    grant_lifetime.check_not_ended(policy, now=now, granted_at=record.granted_at)

    # RFC 8707 §2.2: a refresh may name the grant's resource again, never another one.
    resource = resources.narrowed(
        resources.parse_resource(
            [params["resource"]] if "resource" in params else [], policy.issuer
        ),
        record.resource,
        policy.issuer,
    )
    requested = scopes.parse_scope(params.get("scope"))
    # RFC 6749 §6: the scope may be narrowed but must not exceed the original grant.
    if requested and not set(requested) <= set(record.scope):
        raise InvalidScopeError("The requested scope exceeds the scope originally granted")
    # RFC 6749 §3.3: never more than the app is registered for today (its owner may have
    # narrowed it since the grant); the refresh token keeps the grant's scope (§6).
    access_scope = tuple(s for s in (requested or record.scope) if s in client.scopes)
    if not access_scope:
        raise InvalidScopeError("The app is no longer registered for any scope of this grant")

    response, new = mint_tokens(
        consent_id=record.consent_id,
        client_id=client.client_id,
        user_id=record.user_id,
        scope=access_scope,
        refresh_scope=record.scope,
        resource=resource,
        policy=policy,
        now=now,
        granted_at=record.granted_at,  # RFC 9700 §4.14.2: rotation never extends the grant
    )
    # The consent is guarded (and locked) first, then exactly one of any number of concurrent
    # requests claims the refresh token, and only its new pair is saved.
    outcome = await grants.rotate_refresh_token(digest, record.consent_id, new, now)
    if outcome is Transition.CONSENT_REVOKED:
        raise InvalidGrantError("Refresh token has been revoked")
    if outcome is Transition.CLAIM_LOST:
        await grants.revoke_consent(record.consent_id, now)
        raise InvalidGrantError(REFRESH_REUSED)
    return response
