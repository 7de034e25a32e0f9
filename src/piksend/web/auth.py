"""Browser sign-in state: the session cookie and the current user."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from piksend.accounts import service as accounts
from piksend.accounts.service import Account
from piksend.web.context import ctx
from piksend.web.render import see_other


def session_cookie_name(secure: bool) -> str:
    return "__Host-piksend_session" if secure else "piksend_session"


async def load_user(request: Request, session) -> Account | None:
    c = ctx(request)
    value = request.cookies.get(session_cookie_name(c.settings.secure_cookies))
    user = await accounts.session_user(session, value, c.now())
    request.state.user = user
    return user


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    c = ctx(request)
    secure = c.settings.secure_cookies
    response.set_cookie(
        session_cookie_name(secure),
        value,
        max_age=c.settings.session_ttl,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    secure = ctx(request).settings.secure_cookies
    response.delete_cookie(
        session_cookie_name(secure), path="/", secure=secure, httponly=True, samesite="lax"
    )


def login_redirect(request: Request) -> Response:
    """Send a signed-out visitor to sign in, and back to this page afterwards."""
    return see_other("/login?" + urlencode({"next": request.url.path}))


def safe_next(target: str | None) -> str:
    """Only a local path may be a post-login destination (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or target.startswith("/\\")
        or any(ch in target for ch in "\r\n\t\\")
        or len(target) > 4096
    ):
        return "/"
    return target
