"""Issuing an access token and a refresh token for a consent (RFC 6749 §5.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from piksend.oauth import tokens
from piksend.oauth.stores import GrantStore
from piksend.oauth.types import TokenKind, TokenPolicy, TokenRecord, TokenResponse


async def issue_tokens(
    *,
    consent_id: str,
    client_id: str,
    user_id: str,
    scope: tuple[str, ...],
    refresh_scope: tuple[str, ...] | None = None,
    grants: GrantStore,
    policy: TokenPolicy,
    now: datetime,
) -> TokenResponse:
    access = tokens.generate(tokens.Prefix.ACCESS_TOKEN)
    refresh = tokens.generate(tokens.Prefix.REFRESH_TOKEN)
    common = {
        "consent_id": consent_id,
        "client_id": client_id,
        "user_id": user_id,
        "issued_at": now,
    }
    await grants.save_tokens(
        TokenRecord(
            digest=tokens.digest(access),
            kind=TokenKind.ACCESS,
            scope=scope,
            expires_at=now + timedelta(seconds=policy.access_token_ttl),
            **common,
        ),
        TokenRecord(
            digest=tokens.digest(refresh),
            kind=TokenKind.REFRESH,
            # RFC 6749 §6: a new refresh token keeps the scope of the one it replaces.
            scope=refresh_scope if refresh_scope is not None else scope,
            expires_at=now + timedelta(seconds=policy.refresh_token_ttl),
            **common,
        ),
    )
    return TokenResponse(
        access_token=access,
        refresh_token=refresh,
        expires_in=policy.access_token_ttl,
        scope=scope,
    )
