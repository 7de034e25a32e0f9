"""Authorization endpoint and consent: RFC 6749 §3.3, §4.1.1–4.1.2.1, RFC 7636 §4.3, RFC 9207 §2,
RFC 8707 §2.1 (the request's resource, recorded on the pending request and the code).

Validation happens in the order the RFC forces: first what makes a redirect safe (client and
redirect URI, errors shown on the user's screen), then everything else (errors redirected).
The decision is checked again the same way, since the app may change while the user reads.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode, urlsplit, urlunsplit

from piksend.oauth import pkce, redirect_uris, resources, scopes, tokens
from piksend.oauth.errors import (
    AccessDeniedError,
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    PendingAuthorizationGoneError,
    RequestNotSupportedError,
    RequestUriNotSupportedError,
    UnsafeAuthorizationRequestError,
    UnsupportedResponseTypeError,
)
from piksend.oauth.stores import ClientStore, GrantStore, PendingStore
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
PENDING_GONE = "The authorization request has expired or was already answered"


class Decision(StrEnum):
    """The user's answer on the consent screen."""

    APPROVE = "approve"
    DENY = "deny"


class RedirectableAuthorizationError(Exception):
    """An OAuth error that may be sent back to the (verified) redirect URI."""

    def __init__(self, error: OAuthError, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


class NoScopeApprovedError(InvalidScopeError):
    """RFC 6749 §3.3: an approval names no scope both requested and still registered.

    Nothing is taken: the user is asked again about the same ``pending`` request of ``client``.
    """

    def __init__(self, pending: PendingAuthorization, client: Client) -> None:
        super().__init__("Approve at least one scope that was requested and is still registered")
        self.pending = pending
        self.client = client


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise InvalidRequestError(f"{name} must not be given more than once")
    # RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    return values[0] if values and values[0] != "" else None


def _refuse_request_objects(params: Mapping[str, Sequence[str]]) -> None:
    """RFC 9101 §6.3: ``request`` and ``request_uri`` are refused with their own codes rather
    than ignored (their contents could differ from the query the user is asked about); a
    ``response_mode`` other than ``query`` (OAuth 2.0 Multiple Response Type Encoding Practices
    §2.1, the code flow's default) is ``invalid_request``. Checked after the redirect URI is
    verified, so each is redirected (RFC 6749 §4.1.2.1)."""
    if any(params.get("request") or []):
        raise RequestNotSupportedError("Request objects (the request parameter) are not supported")
    if any(params.get("request_uri") or []):
        raise RequestUriNotSupportedError("The request_uri parameter is not supported")
    response_mode = _single(params, "response_mode")
    if response_mode is not None and response_mode != "query":
        raise InvalidRequestError("response_mode must be query")


async def validate_request(
    params: Mapping[str, Sequence[str]], clients: ClientStore, *, issuer: str
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
        _refuse_request_objects(params)
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
        # RFC 8707 §2.1: invalid_target (redirected, like every error after this point) for a
        # resource that is not ours; none named means the API.
        resource = resources.parse_resource(params.get("resource") or [], issuer)
    except OAuthError as exc:
        raise RedirectableAuthorizationError(exc, redirect_uri, state) from None
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scope=requested,
        state=state,
        code_challenge=challenge,
        resource=resource or resources.api_resource(issuer),
    )


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
        resource=request.resource,
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
            resource=pending.resource,
        ),
        now,
    )
    return redirect_with(
        pending.redirect_uri, {"code": code, "state": pending.state, "iss": policy.issuer}
    )


def deny(pending: PendingAuthorization, issuer: str) -> str:
    """RFC 6749 §4.1.2.1: the user said no, redirected like every other error."""
    error = AccessDeniedError("The user denied the request")
    return error_redirect(
        RedirectableAuthorizationError(error, pending.redirect_uri, pending.state), issuer
    )


async def decide(
    pending_id: str,
    *,
    user_id: str,
    decision: Decision | None,
    scope: Sequence[str],
    pendings: PendingStore,
    clients: ClientStore,
    grants: GrantStore,
    policy: TokenPolicy,
    now: datetime,
) -> str:
    """The user's decision on a pending request: the redirect to send them to, or raise.

    ``decision`` is None when the form named neither; ``scope`` holds the scopes the user ticked.
    Raises :class:`PendingAuthorizationGoneError` or :class:`UnsafeAuthorizationRequestError`
    (shown on the user's screen, never redirected), :class:`NoScopeApprovedError` or
    :class:`InvalidRequestError` (the user is asked again; the request is kept).
    """
    pending = await pendings.get_pending(pending_id, user_id)
    if pending is None or pending.expires_at <= now:
        raise PendingAuthorizationGoneError(PENDING_GONE)
    client = await clients.get_client(pending.client_id)
    if client is None:
        raise PendingAuthorizationGoneError(PENDING_GONE)
    # RFC 6749 §3.1.2.2, §4.1.2.1: the redirect URI must still be registered, or nothing is sent.
    if redirect_uris.find_registered(client.redirect_uris, pending.redirect_uri) is None:
        await pendings.take_pending(pending_id, user_id, now)
        raise UnsafeAuthorizationRequestError(REDIRECT_URI_MISMATCH)
    if decision is None:
        raise InvalidRequestError("decision must be approve or deny")
    # RFC 6749 §3.3: only scopes the app is registered for now, and the user ticked.
    chosen = tuple(sc for sc in pending.scope if sc in scope and sc in client.scopes)
    if decision is Decision.APPROVE and not chosen:
        raise NoScopeApprovedError(pending, client)
    taken = await pendings.take_pending(pending_id, user_id, now)
    if taken is None:
        raise PendingAuthorizationGoneError(PENDING_GONE)
    if decision is Decision.DENY:
        return deny(taken, policy.issuer)
    return await approve(taken, chosen, grants=grants, policy=policy, now=now)
