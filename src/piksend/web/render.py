"""Rendering: HTML pages through Jinja2, JSON errors for APIs, with the right headers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

from piksend.oauth.errors import BearerTokenError, InvalidClientError, OAuthError
from piksend.web import csrf
from piksend.web.context import ctx
from piksend.web.security import NO_STORE


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    no_store: bool = False,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    c = ctx(request)
    secure = c.settings.secure_cookies
    values.setdefault("user", getattr(request.state, "user", None))
    values["csrf_token"] = csrf.ensure_token(request, c.settings.secret_key, secure)
    values["public_url"] = c.settings.public_url
    response = c.templates.TemplateResponse(
        request, template, values, status_code=status, headers=headers
    )
    if no_store:
        response.headers.update(NO_STORE)
    csrf.persist(request, response, secure)
    return response


TITLES = {404: "Not found", 405: "Method not allowed"}
NEXT_STEPS: dict[int, tuple[str, str | None]] = {  # (for the person, for the app's developer)
    400: ("Go back, check what you entered or chose, and try again.", None),
    401: ("Sign in, then try again.", None),
    403: (
        "Go back, reload the page and send the form again: the form expired or came from "
        "another site.",
        None,
    ),
    404: (
        "Check the address, or go back to the page that linked here.",
        "A link to something that was deleted, or that belongs to another account, leads "
        "here: PikSend answers 404 for both, never saying which.",
    ),
    405: ("Go back to the page you came from.", "Use the method the API reference names."),
    429: ("Wait a little, then try again.", "Honour the Retry-After header before retrying."),
    500: (
        "Try again in a moment. If it keeps happening, tell the operator of this PikSend.",
        'The server log has the details: an "unexpected error" line with this address.',
    ),
    503: ("Try again in a few seconds.", "Retry after the Retry-After header's seconds."),
}


def error_page(
    request: Request,
    message: str,
    *,
    status: int,
    title: str | None = None,
    tried: str | None = None,
    app_name: str | None = None,
    user_step: str | None = None,
    developer_step: str | None = None,
):
    """An error page: what went wrong, what was tried (the method and path unless told more;
    never the query, which may hold a secret), the app's name where known, and the next step
    for the person and for the developer. Values are escaped by the template."""
    default_user, default_developer = NEXT_STEPS.get(status, NEXT_STEPS[400])
    return page(
        request,
        "error.html",
        status=status,
        no_store=True,
        title=title or TITLES.get(status, "Something went wrong"),
        message=message,
        status_code=status,
        tried=tried or f"{request.method} {request.url.path}",
        app_name=app_name,
        user_step=user_step or default_user,
        developer_step=developer_step or default_developer,
    )


RETRY_AFTER_SECONDS = 2  # RFC 9110 §10.2.3: when a 503's client may try again


def unavailable_page(request: Request) -> HTMLResponse:
    """503 for a browser: the database or disk is unavailable for now; nothing was done."""
    response = error_page(
        request,
        "PikSend cannot complete this right now, and nothing was changed. "
        "Try again in a few seconds.",
        status=503,
        title="Temporarily unavailable",
    )
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response


def see_other(url: str, headers: dict[str, str] | None = None) -> RedirectResponse:
    """303 after a POST (RFC 9700 §4.12: never 307, which would re-post the form)."""
    return RedirectResponse(url, status_code=303, headers=headers)


def oauth_error_json(error: OAuthError) -> JSONResponse:
    """RFC 6749 §5.2: JSON error, no-store; 401 + WWW-Authenticate when Basic auth failed."""
    headers = dict(NO_STORE)
    if isinstance(error, InvalidClientError) and error.used_basic:
        headers["www-authenticate"] = 'Basic realm="piksend", charset="UTF-8"'
    return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)


def bearer_error_json(error: BearerTokenError) -> JSONResponse:
    body = {
        "error": str(error.code) if error.code else "unauthorized",
        "error_description": error.description,
    }
    return JSONResponse(
        body,
        status_code=error.status,
        headers={"www-authenticate": error.challenge("piksend"), **NO_STORE},
    )


def json_error(code: str, description: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": code, "error_description": description, **extra}, status_code=status
    )
