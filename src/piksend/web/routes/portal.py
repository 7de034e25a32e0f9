"""The developer portal (/settings/oauth): list, register, edit, rotate the secret of and delete
apps; changing an app's type is in `app_type`.

Client secrets are shown once, on the page the POST that made them redirects to
(``secret_page``: POST-redirect-GET, no-store), and are never stored in clear: the create and
rotate forms carry a one-time nonce, so a re-post neither acts twice nor shows a secret again.
A rotation that stops the old secret at once asks first: a confirmation page without
JavaScript, a ``<dialog>`` with it (static/piksend.js); the form's default is a grace period.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from piksend.accounts import security_log
from piksend.accounts.service import Account
from piksend.clients import registry, reveals
from piksend.clients.logos import logo_path
from piksend.clients.registry import App
from piksend.clients.validation import validate_fields
from piksend.errors import ValidationError
from piksend.oauth import scopes
from piksend.oauth.types import ClientType
from piksend.web import nonces
from piksend.web.auth import SignedIn, seen
from piksend.web.context import ctx
from piksend.web.render import page, see_other
from piksend.web.routes import app_type, secret_page
from piksend.web.views import AppForm, PostedForm, text, when

router = APIRouter()
router.include_router(app_type.router)
router.include_router(secret_page.router)

GRACE_CHOICES = (
    (0, "Immediately — the old secret stops working now"),
    (3600, "After 1 hour"),
    (24 * 3600, "After 24 hours"),
    (7 * 24 * 3600, "After 7 days"),
)
DEFAULT_GRACE = 24 * 3600  # issue 17: never "Immediately" by default
ALREADY_CREATED = "This application was already created; the client secret is not shown again."
ALREADY_ROTATED = (
    "This secret was already rotated with this form; the new secret is not shown again."
)
FORM_EXPIRED = "This form has expired. Check the fields and submit again."


def app_view(app: App) -> dict[str, Any]:
    """What every page about one app shows of it."""
    return {
        "app": app,
        "public": app.client_type is ClientType.PUBLIC,
        "logo_url": logo_path(app.client_id, app.name, app.logo_url),  # served by piksend
        "created": when(app.created_at),
        "grace_until": when(app.previous_secret_expires_at),
        "scope_descriptions": [(s, scopes.SCOPES.get(s, s)) for s in app.scopes],
    }


def secret_rows(app: App, now: datetime) -> list[dict[str, Any]]:
    """Each live secret as the app page lists it: the current one, then the previous one
    while its grace period lasts."""
    return [
        {
            "current": f.current,
            "last_four": f.last_four,
            "created": when(f.created_at),
            "used": when(f.used_at),
            "expires": when(f.expires_at),
        }
        for f in app.secrets
        if f.current or (f.expires_at is not None and f.expires_at > now)
    ]


# The list and the "New application" form.


@router.get("/settings/oauth")
async def app_list(request: Request, user: SignedIn, deleted: str | None = None) -> Response:
    async with ctx(request).db.unit_of_work() as s:
        owned = await registry.list_apps(s, owner_id=user.id)
    return page(
        request,
        "settings/apps.html",
        no_store=True,
        apps=[app_view(a) for a in owned],
        deleted=deleted == "1",
    )


def _new_form(
    request: Request, form: AppForm, nonce: str, *, status: int = 200, notice: str | None = None
) -> Response:
    return page(
        request,
        "settings/app_new.html",
        status=status,
        no_store=True,
        form=form,
        nonce=nonce,
        notice=notice,
    )


@router.get("/settings/oauth/new")
async def new_app_form(request: Request, user: SignedIn) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        nonce = await nonces.issue_form_nonce(
            s, user_id=user.id, purpose=nonces.CREATE_APP, now=c.now()
        )
    return _new_form(request, AppForm(), nonce)


def _row_action(form: FormData, posted: AppForm) -> AppForm | None:
    """The form after an "add a row" or "remove this row" button, or None for a real submit."""
    if text(form, "action") == "add_uri":
        return posted.with_row_added()
    remove = text(form, "remove_uri")
    if remove.isdigit():
        return posted.with_row_removed(int(remove))
    return None


@router.post("/settings/oauth/new")
async def create_app(request: Request, form: PostedForm, user: SignedIn) -> Response:
    c = ctx(request)
    posted = AppForm.from_post(form)
    nonce = text(form, "nonce")
    if (changed := _row_action(form, posted)) is not None:
        return _new_form(request, changed, nonce)
    posted = posted.compacted()
    posted.problems(validate_fields)
    if posted.errors:
        return _new_form(request, posted, nonce, status=400)
    async with c.db.unit_of_work() as s:
        claim = await nonces.claim_form_nonce(
            s, user_id=user.id, purpose=nonces.CREATE_APP, nonce=nonce, now=c.now()
        )
        if claim.already_used:
            return page(
                request,
                "settings/already_done.html",
                status=409,
                no_store=True,
                title="Application already created",
                message=ALREADY_CREATED,
                client_id=claim.client_id,
            )
        if not claim.claimed:
            fresh = await nonces.issue_form_nonce(
                s, user_id=user.id, purpose=nonces.CREATE_APP, now=c.now()
            )
            return _new_form(request, posted, fresh, status=400, notice=FORM_EXPIRED)
        created, secret = await registry.create_app(
            s, owner_id=user.id, fields=posted.fields(), now=c.now(), client_type=posted.type
        )
        await nonces.record_nonce_result(s, nonce=nonce, client_id=created.client_id)
        if secret is not None:
            key = await reveals.keep(
                s,
                user_id=user.id,
                client_id=created.client_id,
                kind=reveals.Kind.CREATED,
                secret=secret,
                now=c.now(),
            )
    if secret is None:  # a public app has no secret to show: straight to its page
        return see_other(f"/settings/oauth/{created.client_id}?created=1")
    return secret_page.to_secret_page(request, created.client_id, key)


# One app: view, edit, rotate the secret, delete.


async def _app_page_values(
    request: Request, s: AsyncSession, user: Account, client_id: str, form: AppForm | None = None
) -> dict[str, Any]:
    c = ctx(request)
    app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
    public = app.client_type is ClientType.PUBLIC
    # The one form of the page that answers with a secret carries the page's one nonce.
    purpose = app_type.confidential_purpose if public else nonces.rotate_purpose
    nonce = await nonces.issue_form_nonce(
        s, user_id=user.id, purpose=purpose(app.client_id), now=c.now()
    )
    return {
        **app_view(app),
        "form": form or AppForm.from_fields(app.fields(), app.client_type),
        "rotate_nonce": None if public else nonce,
        "type_nonce": nonce if public else None,
        "grace_choices": GRACE_CHOICES,
        "default_grace": DEFAULT_GRACE,
        "secrets": secret_rows(app, c.now()),
        "active_tokens": await registry.count_active_tokens(
            s, client_id=app.client_id, now=c.now()
        ),
    }


@router.get("/settings/oauth/{client_id}")
async def app_page(
    request: Request,
    client_id: str,
    user: SignedIn,
    saved: str | None = None,
    created: str | None = None,
    made_public: str | None = None,
) -> Response:
    async with ctx(request).db.unit_of_work() as s:
        values = await _app_page_values(request, s, user, client_id)
    return page(
        request,
        "settings/app.html",
        no_store=True,
        saved=saved == "1",
        just_created=created == "1",
        made_public=made_public == "1",
        **values,
    )


@router.post("/settings/oauth/{client_id}")
async def update_app(
    request: Request, client_id: str, form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        posted = AppForm.from_post(form)
        posted.client_type = app.client_type.value  # changed only by its own explicit action
        changed = _row_action(form, posted)
        if changed is None:
            posted = posted.compacted()
            posted.problems(partial(validate_fields, verified=app.verified))
        if changed is None and not posted.errors:
            await registry.update_app(
                s, owner_id=user.id, client_id=client_id, fields=posted.fields(), now=c.now()
            )
            return see_other(f"/settings/oauth/{client_id}?saved=1")
        values = await _app_page_values(request, s, user, client_id, form=changed or posted)
    status = 400 if changed is None else 200
    return page(
        request,
        "settings/app.html",
        status=status,
        no_store=True,
        saved=False,
        just_created=False,
        made_public=False,
        **values,
    )


@router.post("/settings/oauth/{client_id}/rotate")
async def rotate_secret(
    request: Request, client_id: str, form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    grace = text(form, "grace_seconds")
    if grace not in {str(seconds) for seconds, _ in GRACE_CHOICES}:
        raise ValidationError("Choose when the old secret stops working", field="grace_seconds")
    if grace == "0" and text(form, "confirm") != "immediate":
        return see_other(f"/settings/oauth/{client_id[:64]}/rotate")  # ask first
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        claim = await nonces.claim_form_nonce(
            s,
            user_id=user.id,
            purpose=nonces.rotate_purpose(app.client_id),
            nonce=text(form, "nonce"),
            now=c.now(),
            client_id=app.client_id,
        )
        if not claim.claimed:
            return page(
                request,
                "settings/already_done.html",
                status=409 if claim.already_used else 400,
                no_store=True,
                title="Secret not rotated again" if claim.already_used else "Form expired",
                message=ALREADY_ROTATED
                if claim.already_used
                else "This form has expired. Open the app page again and retry.",
                client_id=app.client_id,
            )
        secret = await registry.rotate_secret(
            s, owner_id=user.id, client_id=client_id, now=c.now(), grace_seconds=int(grace)
        )
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        details = {"client_id": app.client_id, "app": app.name, "grace_seconds": int(grace)}
        rotated = security_log.Kind.SECRET_ROTATED
        await security_log.record(
            s, user_id=user.id, kind=rotated, seen=seen(request), now=c.now(), details=details
        )
        key = await reveals.keep(
            s,
            user_id=user.id,
            client_id=app.client_id,
            kind=reveals.Kind.ROTATED,
            secret=secret,
            now=c.now(),
        )
    return secret_page.to_secret_page(request, app.client_id, key)


@router.get("/settings/oauth/{client_id}/rotate")
async def rotate_now_confirm(request: Request, client_id: str, user: SignedIn) -> Response:
    """Are you sure: the old secret stops working at once (the form's POST, confirmed)."""
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        if app.client_type is ClientType.PUBLIC:
            return see_other(f"/settings/oauth/{app.client_id}")
        nonce = await nonces.issue_form_nonce(
            s, user_id=user.id, purpose=nonces.rotate_purpose(app.client_id), now=c.now()
        )
        active = await registry.count_active_tokens(s, client_id=app.client_id, now=c.now())
    return page(
        request,
        "settings/app_rotate_now.html",
        no_store=True,
        app=app,
        nonce=nonce,
        active_tokens=active,
    )


@router.get("/settings/oauth/{client_id}/delete")
async def delete_confirm(request: Request, client_id: str, user: SignedIn) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        active = await registry.count_active_tokens(s, client_id=app.client_id, now=c.now())
    return page(request, "settings/app_delete.html", no_store=True, app=app, active_tokens=active)


@router.post("/settings/oauth/{client_id}/delete")
async def delete_app(
    request: Request, client_id: str, form: PostedForm, user: SignedIn
) -> Response:
    if text(form, "confirm") != "delete":
        raise ValidationError("Confirm the deletion on the confirmation page", field="confirm")
    async with ctx(request).db.unit_of_work() as s:
        await registry.delete_app(s, owner_id=user.id, client_id=client_id)
    return see_other("/settings/oauth?deleted=1")
