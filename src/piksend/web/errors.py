"""The app's exception handlers: every error class rendered once, the way its endpoint shows it.

- OAuth errors as RFC 6749 §5.2 JSON, bearer errors with their RFC 6750 §3 challenge, domain
  errors as JSON on the API and a page elsewhere.
- **Unavailable is 503, never 500** (issue 10): whatever ``storage.unavailable`` recognises as
  "the database or the disk is unavailable" — on any path, SQLAlchemy's, the asyncpg fast
  path's, SQLite's or the blob store's — is answered ``503`` with ``Retry-After`` (RFC 9110
  §10.2.3, §15.6.4): JSON ``temporarily_unavailable`` at the token, revocation and
  introspection endpoints and on the API (RFC 6749 §5.2 with §4.1.2.1's code), a redirect
  carrying that code (with ``state`` and ``iss``, RFC 9207 §2) at authorize once the client
  and redirect URI were verified, and a "temporarily unavailable" page everywhere else.
- Anything else is a bug: ``server_error`` 500, logged with detail, shown without it.
"""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from piksend.errors import DomainError
from piksend.oauth import authorization
from piksend.oauth.errors import BearerTokenError, OAuthError, TemporarilyUnavailableError
from piksend.oauth.types import AuthorizationRequest
from piksend.storage.unavailable import MAY_BE_UNAVAILABLE, unavailable_reason
from piksend.web.auth import load_user
from piksend.web.render import (
    RETRY_AFTER_SECONDS,
    bearer_error_json,
    error_page,
    json_error,
    oauth_error_json,
    unavailable_page,
)
from piksend.web.security import NO_STORE

log = logging.getLogger("piksend")
NUL_IN_TEXT = "22021"  # PostgreSQL character_not_in_repertoire
AUTHORIZE_PATH = "/api/oauth/authorize"
CONSENT_PATH = "/api/oauth/consent"
UNAVAILABLE = "PikSend is temporarily unavailable; retry in a few seconds"
_VERIFIED = "piksend.verified_authorization"
NOT_FOUND = "There is no page at this address."
_REDIRECT_HEADERS = {"referrer-policy": "no-referrer", **NO_STORE}
LOG_EVERY_SECONDS = 10.0


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") and not path.startswith(AUTHORIZE_PATH)


def authorization_verified(request: Request, verified: AuthorizationRequest) -> None:
    """Called by authorize once its client and redirect URI are verified: from here on a
    failure may be redirected to that URI (RFC 6749 §4.1.2.1), before it only shown here."""
    request.scope[_VERIFIED] = verified


class _FailureLog:
    """One warning line per failure class, then at most one per class every LOG_EVERY_SECONDS
    with the count left out meanwhile: an outage is told, not shouted at 500 lines a second.
    Node-local by nature (it only shapes this process's log)."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[float, int]] = {}

    def warn(self, reason: str, request: Request) -> None:
        now = time.monotonic()
        when, quiet = self.last.get(reason, (float("-inf"), 0))
        if now - when < LOG_EVERY_SECONDS:
            self.last[reason] = (when, quiet + 1)
            return
        self.last[reason] = (now, 0)
        more = f" ({quiet} more since the last line)" if quiet else ""
        # The reason names the class only: no SQL, no parameters, no server message.
        log.warning(
            "temporarily unavailable: %s on %s %s%s",
            reason,
            request.method,
            request.url.path,
            more,
        )


def answer_unavailable(request: Request, reason: str, failures: _FailureLog) -> Response:
    failures.warn(reason, request)
    path = request.url.path
    if path == AUTHORIZE_PATH:
        verified = request.scope.get(_VERIFIED)
        if isinstance(verified, AuthorizationRequest):
            error = authorization.RedirectableAuthorizationError(
                TemporarilyUnavailableError(UNAVAILABLE), verified.redirect_uri, verified.state
            )
            issuer = request.app.state.ctx.policy.issuer
            return RedirectResponse(
                authorization.error_redirect(error, issuer),
                status_code=302,
                headers=_REDIRECT_HEADERS,
            )
        return unavailable_page(request)
    if wants_json(request) and path != CONSENT_PATH:
        response = oauth_error_json(TemporarilyUnavailableError(UNAVAILABLE))
        response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return response
    return unavailable_page(request)


async def signed_in_layout(request: Request) -> None:
    """Look up who is signed in, if no handler did, so an error page shows their menu. Only a
    database that is unavailable is tolerated (the page then shows the signed-out menu)."""
    if hasattr(request.state, "user"):
        return
    request.state.user = None
    try:
        async with request.app.state.ctx.db.reader() as session:
            await load_user(request, session)
    except MAY_BE_UNAVAILABLE as exc:
        if unavailable_reason(exc) is None:
            raise
        request.state.user = None


def install_error_handlers(app: FastAPI) -> None:
    failures = _FailureLog()

    @app.exception_handler(OAuthError)
    async def _oauth(request: Request, exc: OAuthError):
        return oauth_error_json(exc)

    @app.exception_handler(BearerTokenError)
    async def _bearer(request: Request, exc: BearerTokenError):
        return bearer_error_json(exc)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        if wants_json(request):
            extra = {"field": exc.field} if exc.field else {}
            response = json_error(exc.code, exc.description, exc.status, **extra)
        else:
            await signed_in_layout(request)
            response = error_page(request, exc.description, status=exc.status)
        # A rate limit's 429 carries Retry-After and its RateLimit fields (web/rate_limits.py).
        response.headers.update(getattr(exc, "headers", {}))
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        description = "; ".join(problems) or "The request is invalid"
        if wants_json(request):
            return json_error("invalid_request", description, 400)
        await signed_in_layout(request)
        return error_page(request, description, status=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        messages = {404: "Not found", 405: "Method not allowed"}
        description = messages.get(exc.status_code, str(exc.detail))
        if wants_json(request) or request.url.path.startswith("/.well-known/"):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
            response = json_error(code, description, exc.status_code)
        else:
            await signed_in_layout(request)
            message = NOT_FOUND if exc.status_code == 404 else description
            response = error_page(request, message, status=exc.status_code, title=description)
        # RFC 9110 §15.5.6: a 405 names the methods that are allowed (Starlette puts them here).
        response.headers.update(exc.headers or {})
        return response

    async def _failure(request: Request, exc: Exception):
        # PostgreSQL text cannot hold NUL (SQLSTATE 22021): such a value came from the
        # request, so it is the client's error, not the server's.
        if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == NUL_IN_TEXT:
            description = "The request contains a NUL character"
            if wants_json(request):
                return json_error("invalid_request", description, 400)
            return error_page(request, description, status=400)
        reason = unavailable_reason(exc)
        if reason is not None:
            return answer_unavailable(request, reason, failures)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if wants_json(request):
            return json_error("server_error", "The server met an unexpected error", 500)
        return error_page(request, "The server met an unexpected error.", status=500)

    # Registered for each class that may carry unavailability (so the router's exception
    # middleware and the hot dispatch answer it), and for Exception: the last resort, which
    # Starlette runs outside every middleware (a failure inside one lands there).
    for cls in (*MAY_BE_UNAVAILABLE, Exception):
        app.add_exception_handler(cls, _failure)
