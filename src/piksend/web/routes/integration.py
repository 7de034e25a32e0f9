"""'Test your integration' (/settings/oauth/{client_id}/test): a developer runs the authorization
code flow with PKCE against their own app and account, and sees the callback (RFC 6749 §4.1.2,
§4.1.2.1; RFC 9207 §2.4) and the token exchange (RFC 6749 §4.1.3) as the app would."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from piksend.clients import playground, registry
from piksend.clients.registry import App
from piksend.errors import ValidationError
from piksend.oauth import scopes
from piksend.web.auth import SignedIn
from piksend.web.context import ctx
from piksend.web.render import error_page, page, see_other
from piksend.web.views import PostedForm, text, texts

router = APIRouter()

NO_REFERRER = {"referrer-policy": "no-referrer"}


def _test_page(
    request: Request, app: App, *, status: int = 200, error: str | None = None
) -> Response:
    callback = playground.callback_uri(ctx(request).settings.public_url)
    return page(
        request,
        "settings/app_test.html",
        status=status,
        no_store=True,
        app=app,
        callback=callback,
        callback_registered=callback in app.redirect_uris,
        scope_descriptions=[(sc, scopes.SCOPES.get(sc, sc)) for sc in app.scopes],
        error=error,
    )


# Registered before the portal's /settings/oauth/{client_id}, which would otherwise take it.
@router.get("/settings/oauth/test-callback")
async def test_callback(request: Request, user: SignedIn) -> Response:
    """The built-in redirect URI for "Test your integration": RFC 6749 §4.1.2 / §4.1.2.1."""
    c = ctx(request)
    query = request.query_params
    async with c.db.unit_of_work() as s:
        found = await playground.find_test_app(
            s, user_id=user.id, state=query.get("state"), now=c.now()
        )
    if found is None:
        return error_page(
            request,
            "This test is unknown or has expired (tests last 10 minutes). Start it again from "
            "your app's page.",
            status=400,
            title="Test not found",
        )
    pending, app = found
    return page(
        request,
        "settings/app_test_callback.html",
        no_store=True,
        headers=NO_REFERRER,
        app=app,
        state=query.get("state"),
        code=query.get("code"),
        error=query.get("error"),
        error_description=query.get("error_description"),
        # RFC 9207 §2.4: the client compares iss with the issuer it expects.
        iss=query.get("iss"),
        iss_ok=query.get("iss") == c.policy.issuer,
        issuer=c.policy.issuer,
        scope=" ".join(pending.scope),
        result=None,
    )


@router.post("/settings/oauth/test-callback")
async def test_exchange(request: Request, form: PostedForm, user: SignedIn) -> Response:
    """Redeem the test's code through the real token endpoint path, with the pasted secret."""
    c = ctx(request)
    state, code = text(form, "state"), text(form, "code")
    async with c.db.unit_of_work() as s:
        exchange = await playground.exchange_code(
            s,
            user_id=user.id,
            state=state,
            code=code,
            client_secret=text(form, "client_secret").strip(),
            policy=c.policy,
            now=c.now(),
        )
    if exchange is None:
        return error_page(
            request,
            "This test is unknown, finished or has expired. Start it again from your app's page.",
            status=400,
            title="Test not found",
        )
    return page(
        request,
        "settings/app_test_callback.html",
        no_store=True,
        headers=NO_REFERRER,
        app=exchange.app,
        state=state,
        code=code if exchange.secret_rejected else None,
        error=None,
        error_description=None,
        iss=None,
        iss_ok=None,
        issuer=c.policy.issuer,
        scope=" ".join(exchange.test.scope),
        result={
            "ok": exchange.ok,
            "status": exchange.status,
            "request": json.dumps(exchange.request, indent=2),
            "response": json.dumps(exchange.response, indent=2),
            "access_token": exchange.response.get("access_token") if exchange.ok else None,
        },
    )


@router.get("/settings/oauth/{client_id}/test")
async def test_page(request: Request, client_id: str, user: SignedIn) -> Response:
    async with ctx(request).db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
    return _test_page(request, app)


@router.post("/settings/oauth/{client_id}/test/callback")
async def register_test_callback(
    request: Request, client_id: str, _form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        await registry.add_redirect_uri(
            s,
            owner_id=user.id,
            client_id=client_id,
            uri=playground.callback_uri(c.settings.public_url),
            now=c.now(),
        )
    return see_other(f"/settings/oauth/{client_id}/test")


@router.post("/settings/oauth/{client_id}/test")
async def start_test(
    request: Request, client_id: str, form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        try:
            started = await playground.start_test(
                s,
                owner_id=user.id,
                client_id=client_id,
                scope=tuple(texts(form, "scope")),
                public_url=c.settings.public_url,
                now=c.now(),
            )
        except ValidationError as exc:
            app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
            return _test_page(request, app, status=400, error=exc.description)
    target = urlsplit(started.authorize_url)
    return see_other(f"{target.path}?{target.query}")
