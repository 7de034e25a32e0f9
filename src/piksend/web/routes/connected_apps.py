"""The user's connected apps (/settings/connected-apps): what each app may do, and revoking it.

Revoking asks first (issue 17): a confirmation page without JavaScript, a ``<dialog>`` with it
(static/piksend.js); only a POST carrying the CSRF token and ``confirm=revoke`` acts, and one
without the confirmation is sent to the page that asks."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from piksend.accounts import security_log
from piksend.clients import connected_apps as connections
from piksend.clients.logos import logo_path
from piksend.errors import NotFound
from piksend.oauth import scopes
from piksend.storage.oauth import SqlOAuthStore
from piksend.web.auth import SignedIn, seen
from piksend.web.context import ctx
from piksend.web.render import page, see_other
from piksend.web.views import PostedForm, https_or_none, text, when

router = APIRouter()


@router.get("/settings/connected-apps")
async def connected_apps(request: Request, user: SignedIn, revoked: str | None = None) -> Response:
    async with ctx(request).db.unit_of_work() as s:
        connected = await connections.list_connected_apps(
            s, user_id=user.id, policy=ctx(request).policy
        )
    return page(
        request,
        "settings/connected_apps.html",
        no_store=True,
        revoked=revoked == "1",
        connected=[
            {
                "app": a,
                "logo_url": logo_path(a.client_id, a.name, a.logo_url),
                "website_url": https_or_none(a.website_url),
                "scopes": [(sc, scopes.SCOPES.get(sc, sc)) for sc in a.scopes],
                "authorized": when(a.authorized_at),
                "last_used": when(a.last_used_at),
                "access_ends": when(a.access_ends_at),
            }
            for a in connected
        ],
    )


# ``:path``: a client named by its metadata document has a URL as its client_id, slashes and all
# (draft-ietf-oauth-client-id-metadata-document), and must be revocable like any other.
@router.get("/settings/connected-apps/{client_id:path}/revoke")
async def revoke_confirm(request: Request, client_id: str, user: SignedIn) -> Response:
    async with ctx(request).db.unit_of_work() as s:
        connected = await connections.list_connected_apps(s, user_id=user.id)
    app = next((a for a in connected if a.client_id == client_id), None)
    if app is None:
        raise NotFound("This app has no access to revoke")
    return page(request, "settings/connected_app_revoke.html", no_store=True, app=app)


@router.post("/settings/connected-apps/{client_id:path}/revoke")
async def revoke_access(
    request: Request, client_id: str, form: PostedForm, user: SignedIn
) -> Response:
    if text(form, "confirm") != "revoke":
        return see_other(f"/settings/connected-apps/{quote(client_id[:255], safe='/')}/revoke")
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        client = await SqlOAuthStore(s).get_client(client_id)
        count = await connections.revoke_access(
            s, user_id=user.id, client_id=client_id, now=c.now()
        )
        if count:
            details = {"client_id": client_id, "app": client.name if client else None}
            revoked = security_log.Kind.APP_REVOKED
            await security_log.record(
                s, user_id=user.id, kind=revoked, seen=seen(request), now=c.now(), details=details
            )
    if count == 0:
        raise NotFound("This app has no access to revoke")
    return see_other("/settings/connected-apps?revoked=1")
