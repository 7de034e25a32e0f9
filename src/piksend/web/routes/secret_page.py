"""The one-time client-secret page (issue 17, item 4): a create, rotate or make-confidential
POST keeps the new secret sealed for one read (``piksend.clients.reveals``) and answers 303 to
``/settings/oauth/{client_id}/secret``, so a reload asks no "Confirm resubmission". That GET shows
the secret once, no-store; a reload, another tab or the back button gets "not shown again".

The reveal key travels in an HttpOnly, SameSite=Strict cookie scoped to that page's path and
deleted by it; neither it nor the secret is ever in a URL.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from piksend.clients import registry, reveals
from piksend.web.auth import SignedIn
from piksend.web.context import ctx
from piksend.web.render import page, see_other
from piksend.web.views import when

router = APIRouter()

HEADINGS = {
    reveals.Kind.CREATED: "Application created",
    reveals.Kind.ROTATED: "New client secret",
    reveals.Kind.CONFIDENTIAL: "App made confidential",
}
NOT_AGAIN = (
    "A client secret is shown once, on the page right after it was made, and this one was "
    "already shown (or that page expired). PikSend keeps only a one-way hash of it."
)


def cookie_name(secure: bool) -> str:
    return "__Secure-piksend_reveal" if secure else "piksend_reveal"


def _path(client_id: str) -> str:
    return f"/settings/oauth/{client_id}/secret"


def to_secret_page(request: Request, client_id: str, key: str) -> RedirectResponse:
    """303 to the secret page, handing the browser its reveal key."""
    secure = ctx(request).settings.secure_cookies
    response = see_other(_path(client_id))
    response.set_cookie(
        cookie_name(secure),
        key,
        max_age=int(reveals.REVEAL_TTL.total_seconds()),
        path=_path(client_id),
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/settings/oauth/{client_id}/secret")
async def secret_page(request: Request, client_id: str, user: SignedIn) -> Response:
    c = ctx(request)
    secure = c.settings.secure_cookies
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        revealed = await reveals.take(
            s,
            user_id=user.id,
            client_id=app.client_id,
            key=request.cookies.get(cookie_name(secure)),
            now=c.now(),
        )
    if revealed is None:
        response: Response = page(
            request,
            "settings/already_done.html",
            status=410,
            no_store=True,
            title="This secret is not shown again",
            message=NOT_AGAIN,
            client_id=app.client_id,
        )
    else:
        response = page(
            request,
            "settings/app_secret.html",
            no_store=True,
            heading=HEADINGS[revealed.kind],
            app=app,
            client_secret=revealed.secret,
            rotated=revealed.kind is reveals.Kind.ROTATED,
            grace_until=when(app.previous_secret_expires_at),
        )
    response.delete_cookie(
        cookie_name(secure),
        path=_path(app.client_id),
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    return response
