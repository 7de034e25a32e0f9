"""CSRF protection for forms: a signed double-submit token bound to a per-browser cookie.

The cookie holds a random value; the form field holds HMAC(secret_key, value). An attacker
can neither read the cookie nor compute the HMAC, and SameSite=Lax already keeps the cookie
off cross-site POSTs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from piksend.errors import DomainError


class CsrfError(DomainError):
    status = 403
    code = "csrf_failed"


def cookie_name(secure: bool) -> str:
    return "__Host-piksend_csrf" if secure else "piksend_csrf"


def _sign(secret_key: str, value: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + value.encode(), hashlib.sha256).hexdigest()


def ensure_token(request: Request, secret_key: str, secure: bool) -> str:
    """The form token for this browser, creating its cookie value if needed."""
    value = request.cookies.get(cookie_name(secure))
    if not value or len(value) > 100:
        value = getattr(request.state, "new_csrf_cookie", None) or secrets.token_urlsafe(24)
        request.state.new_csrf_cookie = value
    return _sign(secret_key, value)


def persist(request: Request, response: Response, secure: bool) -> None:
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        response.set_cookie(
            cookie_name(secure), value, httponly=True, samesite="lax", secure=secure, path="/"
        )


def verify(request: Request, submitted: str | None, secret_key: str, secure: bool) -> None:
    value = request.cookies.get(cookie_name(secure))
    if not value or not submitted or len(submitted) != 64:
        raise CsrfError("This form has expired. Go back, reload the page and try again.")
    if not hmac.compare_digest(_sign(secret_key, value), submitted):
        raise CsrfError("This form has expired. Go back, reload the page and try again.")
