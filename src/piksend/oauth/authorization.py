"""The authorization endpoint: RFC 6749 §4.1.1–§4.1.2.1, RFC 7636 §4.3, RFC 9207 §2.

Validation happens in the order the RFC forces: first what makes a redirect safe (client and
redirect URI, errors shown on the user's screen), then everything else (errors redirected).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from piksend.oauth import pkce, redirect_uris, scopes, tokens
from piksend.oauth.errors import (
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    UnsafeAuthorizationRequestError,
    UnsupportedResponseTypeError,
)
from piksend.oauth.stores import ClientStore, GrantStore
from piksend.oauth.types import (
    AuthorizationCode,
    AuthorizationRequest,
    Client,
    PendingAuthorization,
    TokenPolicy,
)

REDIRECT_URI_MISMATCH = "redirect_uri does not match any registered URIs"
MAX_STATE_LENGTH = 1024
MAX_PARAM_LENGTH = 2048


class RedirectableAuthorizationError(Exception):
    """An OAuth error that may be sent back to the (verified) redirect URI."""

    def __init__(self, error: OAuthError, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise InvalidRequestError(f"{name} must not be given more than once")
    # RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    return values[0] if values and values[0] != "" else None


async def validate_request(
    params: Mapping[str, Sequence[str]], clients: ClientStore
) -> AuthorizationRequest:
    """Turn the query of an authorization request into a validated request, or raise."""
    # RFC 6749 §4.1.2.1: these two errors must not redirect.
    try:
        client_id = _single(params, "client_id")
        redirect_uri = _single(params, "redirect_uri")
    except InvalidRequestError as exc:
        raise UnsafeAuthorizationRequestError(exc.description) from None
    if not client_id:
        raise UnsafeAuthorizationRequestError("client_id is required")
    client = await clients.get_client(client_id) if len(client_id) <= 200 else None
    if client is None:
        raise UnsafeAuthorizationRequestError("Unknown client_id")
    if (
        not redirect_uri
        or redirect_uris.find_registered(client.redirect_uris, redirect_uri) is None
    ):
        raise UnsafeAuthorizationRequestError(REDIRECT_URI_MISMATCH)

    state_values = params.get("state") or []
    state = state_values[0] if len(state_values) == 1 and state_values[0] else None
    try:
        if len(state_values) > 1:
            raise InvalidRequestError("state must not be given more than once")
        if state is not None and len(state) > MAX_STATE_LENGTH:
            raise InvalidRequestError(f"state must be at most {MAX_STATE_LENGTH} characters")
        for name, values in params.items():
            if any(len(v) > MAX_PARAM_LENGTH for v in values):
                raise InvalidRequestError(f"{name} is too long")
        response_type = _single(params, "response_type")
        if response_type is None:
            raise InvalidRequestError("response_type is required and must be code")
        if response_type != "code":
            raise UnsupportedResponseTypeError("response_type must be code")
        raw_scope = _single(params, "scope")
        if raw_scope is None:
            # RFC 6749 §3.3: no default scope here, so a missing scope fails.
            raise InvalidScopeError("scope is required")
        requested = scopes.parse_scope(raw_scope)
        if not requested:
            raise InvalidScopeError("scope is required")
        scopes.require_allowed(requested, client.scopes)
        challenge = pkce.validate_challenge(
            _single(params, "code_challenge"), _single(params, "code_challenge_method")
        )
    except OAuthError as exc:
        raise RedirectableAuthorizationError(exc, redirect_uri, state) from None
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scope=requested,
        state=state,
        code_challenge=challenge,
    )


def check_still_registered(pending: PendingAuthorization, client: Client) -> None:
    """The app may change while the user reads the consent screen: its redirect URI must still
    be registered when the decision is sent (RFC 6749 §3.1.2.2, §4.1.2.1), or nothing is sent."""
    if redirect_uris.find_registered(client.redirect_uris, pending.redirect_uri) is None:
        raise UnsafeAuthorizationRequestError(REDIRECT_URI_MISMATCH)


def new_pending(
    request: AuthorizationRequest, *, user_id: str, now: datetime, ttl: int
) -> PendingAuthorization:
    return PendingAuthorization(
        id=secrets.token_urlsafe(24),
        client_id=request.client.client_id,
        user_id=user_id,
        redirect_uri=request.redirect_uri,
        scope=request.scope,
        state=request.state,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        expires_at=now + timedelta(seconds=ttl),
    )


def redirect_with(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """RFC 6749 §3.1.2: keep the registered query component and add ours to it."""
    parts = urlsplit(redirect_uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def error_redirect(error: RedirectableAuthorizationError, issuer: str) -> str:
    """RFC 6749 §4.1.2.1 with RFC 9207 §2 ``iss`` on error responses too."""
    return redirect_with(
        error.redirect_uri,
        {
            "error": str(error.error.code),
            "error_description": error.error.description,
            "state": error.state,
            "iss": issuer,
        },
    )


async def approve(
    pending: PendingAuthorization,
    granted: tuple[str, ...],
    *,
    grants: GrantStore,
    policy: TokenPolicy,
    now: datetime,
) -> str:
    """Record the user's consent, issue a code (RFC 6749 §4.1.2) and return the redirect."""
    if not granted or not set(granted) <= set(pending.scope):
        raise InvalidScopeError("The approved scopes must be a non-empty subset of the request")
    consent_id = await grants.create_consent(
        user_id=pending.user_id, client_id=pending.client_id, scope=granted, now=now
    )
    code = tokens.generate(tokens.Prefix.AUTHORIZATION_CODE)
    await grants.save_code(
        AuthorizationCode(
            digest=tokens.digest(code),
            consent_id=consent_id,
            client_id=pending.client_id,
            user_id=pending.user_id,
            redirect_uri=pending.redirect_uri,
            scope=granted,
            code_challenge=pending.code_challenge,
            code_challenge_method=pending.code_challenge_method,
            expires_at=now + timedelta(seconds=policy.code_ttl),
        ),
        now,
    )
    return redirect_with(
        pending.redirect_uri, {"code": code, "state": pending.state, "iss": policy.issuer}
    )


def deny(pending: PendingAuthorization, issuer: str) -> str:
    return redirect_with(
        pending.redirect_uri,
        {
            "error": "access_denied",
            "error_description": "The user denied the request",
            "state": pending.state,
            "iss": issuer,
        },
    )
