"""The OAuth endpoints at the paths of the PikSend docs, and RFC 8414 metadata."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from piksend.accounts import security_log
from piksend.clients.identity import identity_of
from piksend.oauth import authorization, resources
from piksend.oauth.client_auth import authenticate_client
from piksend.oauth.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidTargetError,
    OAuthError,
    PendingAuthorizationGoneError,
    UnsafeAuthorizationRequestError,
)
from piksend.oauth.introspection import introspect
from piksend.oauth.metadata import server_metadata
from piksend.oauth.refresh_grace import ReplayedResponse
from piksend.oauth.registration import RegistrationPolicy
from piksend.oauth.revocation import revoke
from piksend.oauth.token_endpoint import handle_token_request
from piksend.oauth.types import PendingAuthorization
from piksend.storage.oauth import SqlOAuthStore
from piksend.web import cors, csrf, errors, fault_points, rate_limits, secret_uses
from piksend.web.auth import load_user, seen
from piksend.web.consent_page import (
    SWITCH_ACCOUNT,
    consent_view,
    expired_page,
    switch_account,
    unsafe_request_page,
)
from piksend.web.context import ctx
from piksend.web.hot import hot
from piksend.web.json_response import FastJSONResponse
from piksend.web.ops import metrics_of
from piksend.web.params import read_params
from piksend.web.render import error_page, oauth_error_json, page, see_other
from piksend.web.security import NO_STORE, consent_csp

router = APIRouter()

AUTHORIZE_HEADERS = {"referrer-policy": "no-referrer", **NO_STORE}


@router.get("/api/oauth/authorize", include_in_schema=False)
async def authorize(request: Request):
    c = ctx(request)
    try:
        params = parse_qs(request.url.query, keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return error_page(
            request,
            "The authorization request has too many parameters.",
            status=400,
            title="Invalid authorization request",
        )
    async with c.db.unit_of_work() as s:
        store = SqlOAuthStore(s)
        # An https client_id is fetched as its client ID metadata document (and kept as a row,
        # which consent and the token endpoint read like any app's); others go to the store.
        clients = request.app.state.metadata_documents.clients(store, s, c.now())
        try:
            auth_request = await authorization.validate_request(
                params, clients, issuer=c.policy.issuer
            )
        except UnsafeAuthorizationRequestError as exc:
            await load_user(request, s)  # the error page in the signed-in layout
            return await unsafe_request_page(request, store, params, exc)
        except authorization.RedirectableAuthorizationError as exc:
            return RedirectResponse(
                authorization.error_redirect(exc, c.policy.issuer),
                status_code=302,
                headers=AUTHORIZE_HEADERS,
            )
        errors.authorization_verified(request, auth_request)  # a failure now may redirect
        user = await load_user(request, s)
        if user is None:
            target = "/api/oauth/authorize?" + request.url.query
            return RedirectResponse(
                "/login?" + urlencode({"next": target}), status_code=302, headers=AUTHORIZE_HEADERS
            )
        pending = authorization.new_pending(
            auth_request, user_id=user.id, now=c.now(), ttl=c.settings.pending_authorization_ttl
        )
        await store.save_pending(pending)
        identity = await identity_of(s, auth_request.client)
    return page(
        request,
        "oauth/consent.html",
        headers={**AUTHORIZE_HEADERS, "content-security-policy": consent_csp(pending.redirect_uri)},
        **consent_view(auth_request.client, pending, c.policy.issuer, identity),
        signout_pending=pending.id,  # the menu's "Sign out" takes the "Not you?" path
        error=None,
    )


@router.post("/api/oauth/consent", include_in_schema=False)
async def consent(request: Request):
    """The user's decision. Only the pending request's id travels through the browser, so
    the form can narrow the scopes but never change the client or the redirect URI."""
    c = ctx(request)
    form = await request.form(max_files=0, max_fields=50)
    pending_id = str(form.get("pending_id", ""))[:100]
    switching = form.get("decision") == SWITCH_ACCOUNT
    decision = _decision(form.get("decision"))
    chosen = tuple(str(v) for v in form.getlist("scope"))
    csrf_token = form.get("csrf_token")
    try:
        csrf.verify(
            request,
            csrf_token if isinstance(csrf_token, str) else None,
            c.settings.secret_key,
            c.settings.secure_cookies,
        )
    except csrf.CsrfError as exc:
        return error_page(request, exc.description, status=403, title="Form expired")
    async with c.db.unit_of_work() as s:
        store = SqlOAuthStore(s)
        user = await load_user(request, s)
        if user is None:
            return error_page(
                request,
                "Sign in again, then return to the app and start again.",
                status=401,
                title="Not signed in",
            )
        asked = await store.get_pending(pending_id, user.id)  # for the security log, below
        if switching:
            return await switch_account(request, s, asked)
        try:
            target = await authorization.decide(
                pending_id,
                user_id=user.id,
                decision=decision,
                scope=chosen,
                pendings=store,
                clients=store,
                grants=store,
                policy=c.policy,
                now=c.now(),
            )
        except PendingAuthorizationGoneError:
            return await expired_page(request, store, asked)
        except UnsafeAuthorizationRequestError as exc:
            return error_page(
                request, exc.description, status=400, title="Invalid authorization request"
            )
        except authorization.NoScopeApprovedError as exc:
            return page(
                request,
                "oauth/consent.html",
                status=400,
                headers={
                    **AUTHORIZE_HEADERS,
                    "content-security-policy": consent_csp(exc.pending.redirect_uri),
                },
                **consent_view(
                    exc.client,
                    exc.pending,
                    c.policy.issuer,
                    await identity_of(s, exc.client),
                    ticked=chosen,  # as the user left them: a second press grants no more
                ),
                signout_pending=exc.pending.id,
                error="Choose at least one permission to approve, or choose Cancel.",
            )
        except InvalidRequestError:
            return error_page(request, "Choose Approve or Cancel.", status=400)
        if decision is authorization.Decision.APPROVE and asked is not None:
            await _log_authorized(request, s, store, asked, chosen)
    return see_other(target, headers=AUTHORIZE_HEADERS)


async def _log_authorized(
    request: Request,
    s: AsyncSession,
    store: SqlOAuthStore,
    pending: PendingAuthorization,
    chosen: tuple[str, ...],
) -> None:
    """The approval in the user's security log, in the consent's transaction: the app and the
    scopes granted (those asked for, ticked and registered, as ``decide`` grants them)."""
    client = await store.get_client(pending.client_id)
    granted = [sc for sc in pending.scope if sc in chosen and client and sc in client.scopes]
    details = {"client_id": pending.client_id, "app": client.name if client else None}
    await security_log.record(
        s,
        user_id=pending.user_id,
        kind=security_log.Kind.APP_AUTHORIZED,
        seen=seen(request),
        now=ctx(request).now(),
        details={**details, "scopes": granted},
    )


def _decision(value: object) -> authorization.Decision | None:
    """The button the user pressed, or None when the form names neither."""
    if not isinstance(value, str):
        return None
    try:
        return authorization.Decision(value)
    except ValueError:
        return None


@router.post("/api/oauth/token")
@hot
async def token(request: Request):
    c = ctx(request)
    params: dict[str, str] = {}
    store = None
    try:
        params = await _token_params(request)
        async with c.db.oauth_unit(write=True) as store:
            await cors.allow_client_origin(request, params, store)
            result = await handle_token_request(
                params,
                request.headers.get("authorization"),
                clients=store,
                grants=store,
                policy=c.policy,
                now=c.now(),
            )
    except OAuthError as exc:
        metrics_of(request).token_request_failed(exc)
        return secret_uses.after(await _refused(request, params, exc), request, store)
    metrics_of(request).token_request_done(params.get("grant_type"), result)
    if params.get("grant_type") == "refresh_token" and not isinstance(result, ReplayedResponse):
        await fault_points.after_rotation_commit()  # test-only (web/fault_points.py)
    return secret_uses.after(FastJSONResponse(result.to_dict(), headers=NO_STORE), request, store)


async def _token_params(request: Request) -> dict[str, str]:
    try:
        return await read_params(request)
    except InvalidRequestError as exc:
        # RFC 8707 §2: several resources in one request are invalid_target here (a token is
        # for exactly one resource, piksend.oauth.resources), not a generic repeated parameter.
        if exc.description == REPEATED_RESOURCE:
            raise InvalidTargetError(resources.ONE_RESOURCE) from None
        raise


REPEATED_RESOURCE = "Parameter resource was given more than once"  # web/params.py's wording


async def _client_call(
    request: Request, action, *, read_only: bool = False, public_allowed: bool = True
) -> JSONResponse:
    """Parse the body, authenticate the client (RFC 7009 §2.1, RFC 7662 §2.1), then act."""
    c = ctx(request)
    params: dict[str, str] = {}
    store = None
    try:
        params = await read_params(request)
        async with c.db.oauth_unit(write=not read_only) as store:
            await cors.allow_client_origin(request, params, store)
            client = await authenticate_client(
                params,
                request.headers.get("authorization"),
                store,
                c.now(),
                public_allowed=public_allowed,
            )
            body = await action(params, client, store, c)
    except OAuthError as exc:
        return secret_uses.after(await _refused(request, params, exc), request, store)
    return secret_uses.after(FastJSONResponse(body, headers=NO_STORE), request, store)


async def _refused(request: Request, params: dict[str, str], error: OAuthError) -> JSONResponse:
    """The error's JSON; a failed client authentication is counted first, and answered 429
    with Retry-After once past its limit (web/rate_limits.py). Only failures are counted."""
    if isinstance(error, InvalidClientError):
        limited = await rate_limits.client_auth_failed(request, params, error)
        if limited is not None:
            return limited
    return oauth_error_json(error)


@router.post("/api/oauth/revoke")
@hot
async def revoke_endpoint(request: Request):
    async def action(params, client, store, c):
        await revoke(params, client, grants=store, now=c.now())
        metrics_of(request).tokens_revoked.inc()
        return {}  # RFC 7009 §2.2: 200 whether or not the token was known

    return await _client_call(request, action)


@router.post("/api/oauth/introspect")
@hot
async def introspect_endpoint(request: Request):
    async def action(params, client, store, c):
        return await introspect(
            params, client, grants=store, users=store, issuer=c.policy.issuer, now=c.now()
        )

    return await _client_call(request, action, read_only=True, public_allowed=False)


@router.get("/.well-known/oauth-authorization-server")
async def metadata(request: Request):
    c = ctx(request)
    registration = c.settings.dynamic_registration != RegistrationPolicy.OFF
    return JSONResponse(server_metadata(c.policy.issuer, registration=registration))
