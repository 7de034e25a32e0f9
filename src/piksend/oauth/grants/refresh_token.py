"""The refresh_token grant: RFC 6749 §6, rotation and reuse detection per RFC 9700 §4.14.2,
with grace retries (``piksend.oauth.refresh_grace``), RFC 8707 §2.2 (a refresh keeps the
grant's resource)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from piksend.oauth import grant_lifetime, refresh_grace, resources, scopes, tokens
from piksend.oauth.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from piksend.oauth.issuance import mint_tokens
from piksend.oauth.stores import GrantStore
from piksend.oauth.types import (
    Client,
    TokenKind,
    TokenPolicy,
    TokenRecord,
    TokenResponse,
    Transition,
)

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
        # RFC 9700 §4.14.2: a rotated refresh token came back: a grace retry gets its
        # successor response again, anything else revokes the whole family.
        return await _retry_or_reuse(presented, digest, record, client, grants, policy, now)
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
    # The successor response is kept, sealed for the holder of this token, in the same write.
    keep = refresh_grace.keep_for_retries(
        presented=presented,
        digest=digest,
        record=record,
        response=response,
        successor=new[1],
        window=policy.refresh_grace_seconds,
        now=now,
    )
    outcome = await grants.rotate_refresh_token(digest, record.consent_id, new, now, keep=keep)
    if outcome is Transition.CONSENT_REVOKED:
        raise InvalidGrantError("Refresh token has been revoked")
    if outcome is Transition.CLAIM_LOST:
        # A concurrent request rotated it first (its write is committed once ours lost):
        # the same rule as a later presentation. The grace check runs only here and above.
        return await _retry_or_reuse(presented, digest, record, client, grants, policy, now)
    return response


async def _retry_or_reuse(
    presented: str,
    digest: str,
    record: TokenRecord,
    client: Client,
    grants: GrantStore,
    policy: TokenPolicy,
    now: datetime,
) -> TokenResponse:
    """RFC 9700 §4.14.2: the kept successor response for a grace retry; else the whole family
    is revoked."""
    window = policy.refresh_grace_seconds
    if refresh_grace.may_be_retry(record, client, window=window, now=now):
        kept = await grants.find_retry(digest, presented, now)
        if kept is not None:
            return refresh_grace.replayed(kept)
    await grants.revoke_consent(record.consent_id, now)
    raise InvalidGrantError(REFRESH_REUSED)
