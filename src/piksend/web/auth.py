"""Browser sign-in state: the session cookie, the current user, and pages that need one.

The session lookup applies the idle and absolute expiry (``accounts.sessions``) and, at most
once a minute per session, records it as seen now from this address and browser.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from piksend.accounts import sessions
from piksend.accounts.security_log import Seen
from piksend.accounts.service import Account
from piksend.accounts.user_agents import describe
from piksend.web.client_address import client_address
from piksend.web.context import ctx
from piksend.web.render import error_page, see_other


def session_cookie_name(secure: bool) -> str:
    return "__Host-piksend_session" if secure else "piksend_session"


def session_policy(request: Request) -> sessions.SessionPolicy:
    settings = ctx(request).settings
    return sessions.SessionPolicy(
        idle=timedelta(days=settings.session_idle_days),
        absolute=timedelta(days=settings.session_max_days),
    )


def seen(request: Request) -> Seen:
    """Where this request came from, for the security log: the address and a browser name."""
    return Seen(
        address=client_address(request), browser=describe(request.headers.get("user-agent"))
    )


async def load_user(request: Request, session: AsyncSession) -> Account | None:
    c = ctx(request)
    value = request.cookies.get(session_cookie_name(c.settings.secure_cookies))
    now = c.now()
    current = await sessions.lookup(session, value, now=now, policy=session_policy(request))
    request.state.user = current.account if current else None
    request.state.session_digest = current.digest if current else None
    if current is not None and current.touch_due:
        # Its own short write: the caller's unit may be a reader, which commits nothing.
        async with c.db.unit_of_work() as w:
            await sessions.touch(
                w,
                current.digest,
                address=client_address(request),
                user_agent=request.headers.get("user-agent"),
                now=now,
            )
    return request.state.user


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


class SignInRequired(Exception):
    """A page that needs a signed-in user was asked for by a signed-out visitor."""


async def signed_in_user(request: Request) -> Account:
    """The dependency of every page that needs a user: the user, or SignInRequired."""
    async with ctx(request).db.reader() as session:
        user = await load_user(request, session)
    if user is None:
        raise SignInRequired
    return user


SignedIn = Annotated[Account, Depends(signed_in_user)]


async def answer_sign_in_required(request: Request, _exc: Exception) -> Response:
    """A page sends the visitor to sign in and back; a form posted signed out is refused."""
    if request.method == "GET":
        return login_redirect(request)
    return error_page(request, "Sign in again, then retry.", status=401, title="Not signed in")


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
