"""Changing an app's type in the developer portal: explicit actions, never a side effect of an edit.

Making an app public deletes its secrets (RFC 6749 §2.1: a public client has none) after a
confirmation page; making it confidential issues a secret, shown once on the page the POST
redirects to (``secret_page``), so that form carries a one-time nonce like the create and rotate
forms.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from piksend.clients import registry, reveals
from piksend.errors import ValidationError
from piksend.oauth.redirect_uris import private_use_scheme
from piksend.oauth.types import ClientType
from piksend.web import nonces
from piksend.web.auth import SignedIn
from piksend.web.context import ctx
from piksend.web.render import page, see_other
from piksend.web.routes import secret_page
from piksend.web.views import PostedForm, text

router = APIRouter()

ALREADY_PUBLIC = "This app was already made public with this form."
ALREADY_CONFIDENTIAL = (
    "This app was already made confidential with this form; its secret is not shown again."
)
EXPIRED = "This form has expired. Open the app page again and retry."


def public_purpose(client_id: str) -> str:
    return f"make_public:{client_id}"[:100]


def confidential_purpose(client_id: str) -> str:
    return f"make_confidential:{client_id}"[:100]


def _not_done(request: Request, client_id: str, *, used: bool, title: str, message: str):
    return page(
        request,
        "settings/already_done.html",
        status=409 if used else 400,
        no_store=True,
        title=title if used else "Form expired",
        message=message if used else EXPIRED,
        client_id=client_id,
    )


@router.get("/settings/oauth/{client_id}/make-public")
async def make_public_confirm(request: Request, client_id: str, user: SignedIn) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        if app.client_type is ClientType.PUBLIC:
            return see_other(f"/settings/oauth/{app.client_id}")
        nonce = await nonces.issue_form_nonce(
            s, user_id=user.id, purpose=public_purpose(app.client_id), now=c.now()
        )
    return page(request, "settings/app_make_public.html", no_store=True, app=app, nonce=nonce)


@router.post("/settings/oauth/{client_id}/make-public")
async def make_public(
    request: Request, client_id: str, form: PostedForm, user: SignedIn
) -> Response:
    if text(form, "confirm") != "public":
        raise ValidationError("Confirm the change on the confirmation page", field="confirm")
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        claim = await nonces.claim_form_nonce(
            s,
            user_id=user.id,
            purpose=public_purpose(app.client_id),
            nonce=text(form, "nonce"),
            now=c.now(),
            client_id=app.client_id,
        )
        if not claim.claimed:
            return _not_done(
                request,
                app.client_id,
                used=claim.already_used,
                title="App already made public",
                message=ALREADY_PUBLIC,
            )
        await registry.make_public(s, owner_id=user.id, client_id=app.client_id, now=c.now())
    return see_other(f"/settings/oauth/{app.client_id}?made_public=1")


@router.post("/settings/oauth/{client_id}/make-confidential")
async def make_confidential(
    request: Request, client_id: str, form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        claim = await nonces.claim_form_nonce(
            s,
            user_id=user.id,
            purpose=confidential_purpose(app.client_id),
            nonce=text(form, "nonce"),
            now=c.now(),
            client_id=app.client_id,
        )
        if not claim.claimed:
            return _not_done(
                request,
                app.client_id,
                used=claim.already_used,
                title="Secret not issued again",
                message=ALREADY_CONFIDENTIAL,
            )
        try:
            secret = await registry.make_confidential(
                s, owner_id=user.id, client_id=app.client_id, now=c.now()
            )
        except ValidationError as refused:
            return page(
                request,
                "settings/app_type_refused.html",
                status=400,
                no_store=True,
                app=app,
                message=refused.description,
                private_use=[u for u in app.redirect_uris if private_use_scheme(u)],
            )
        key = await reveals.keep(
            s,
            user_id=user.id,
            client_id=app.client_id,
            kind=reveals.Kind.CONFIDENTIAL,
            secret=secret,
            now=c.now(),
        )
    return secret_page.to_secret_page(request, app.client_id, key)
