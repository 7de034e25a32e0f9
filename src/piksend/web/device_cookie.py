"""The device cookie: a browser that signed in to an account before is known to it.

Its value is signed and checked by ``accounts.throttle.SignInThrottle``; here it is only read
and written. It outlives sign-out on purpose (OWASP "device cookies"): with it, the
per-account slow-down never applies to the owner's own browsers.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from piksend.web.context import ctx


def device_cookie_name(secure: bool) -> str:
    return "__Host-piksend_device" if secure else "piksend_device"


def read_device_cookie(request: Request) -> str | None:
    return request.cookies.get(device_cookie_name(ctx(request).settings.secure_cookies))


def set_device_cookie(request: Request, response: Response, *, account_id: str) -> None:
    c = ctx(request)
    secure = c.settings.secure_cookies
    response.set_cookie(
        device_cookie_name(secure),
        c.throttle.device_cookie(account_id=account_id, now=c.now()),
        max_age=c.throttle.policy.device_ttl,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
