"""Minting an access token and a refresh token for a consent (RFC 6749 §5.1, RFC 8707 §2.2)."""

from __future__ import annotations

from datetime import datetime, timedelta

from piksend.oauth import grant_lifetime, tokens
from piksend.oauth.types import TokenKind, TokenPolicy, TokenRecord, TokenResponse


def mint_tokens(
    *,
    consent_id: str,
    client_id: str,
    user_id: str,
    scope: tuple[str, ...],
    refresh_scope: tuple[str, ...] | None = None,
    resource: str,
    policy: TokenPolicy,
    now: datetime,
    granted_at: datetime | None = None,
) -> tuple[TokenResponse, tuple[TokenRecord, TokenRecord]]:
    """New random values and the records (digests only) to store for them. Nothing is saved
    here: the grant saves the records in the same step that claims its code or refresh token."""
    access = tokens.generate(tokens.Prefix.ACCESS_TOKEN)
    refresh = tokens.generate(tokens.Prefix.REFRESH_TOKEN)
    records = (
        TokenRecord(
            digest=tokens.digest(access),
            kind=TokenKind.ACCESS,
            consent_id=consent_id,
            client_id=client_id,
            user_id=user_id,
            scope=scope,
            issued_at=now,
            expires_at=now + timedelta(seconds=policy.access_token_ttl),
            # RFC 8707 §2.2: the token's audience; the refresh token keeps it for the next.
            resource=resource,
        ),
        TokenRecord(
            digest=tokens.digest(refresh),
            kind=TokenKind.REFRESH,
            consent_id=consent_id,
            client_id=client_id,
            user_id=user_id,
            # RFC 6749 §6: a new refresh token keeps the scope of the one it replaces.
            scope=refresh_scope if refresh_scope is not None else scope,
            issued_at=now,
            expires_at=grant_lifetime.refresh_expiry(policy, now=now, granted_at=granted_at or now),
            resource=resource,
        ),
    )
    response = TokenResponse(
        access_token=access,
        refresh_token=refresh,
        expires_in=policy.access_token_ttl,
        scope=scope,
    )
    return response, records
