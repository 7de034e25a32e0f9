"""The developer portal (/settings/oauth) and the user's connected apps (/settings/connected-apps).

Client secrets are shown once, in the response to the POST that made them (no-store), and are
never stored in clear: the create and rotate forms carry a one-time nonce, so a reload or a
re-post neither acts twice nor shows a secret again.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter
from starlette.requests import Request

from piksend.accounts.service import Account
from piksend.clients import playground
from piksend.clients import service as apps
from piksend.errors import NotFound, ValidationError
from piksend.oauth import scopes
from piksend.oauth.errors import OAuthError
from piksend.oauth.token_endpoint import handle_token_request
from piksend.storage.oauth_store import SqlOAuthStore
from piksend.web.auth import load_user, login_redirect
from piksend.web.context import ctx
from piksend.web.render import error_page, page, see_other
from piksend.web.views import AppForm, https_or_none, read_multi_form, text, texts, when

router = APIRouter()

GRACE_CHOICES = (
    (0, "Immediately — the old secret stops working now"),
    (3600, "After 1 hour"),
    (24 * 3600, "After 24 hours"),
    (7 * 24 * 3600, "After 7 days"),
)
ALREADY_CREATED = "This application was already created; the client secret is not shown again."
ALREADY_ROTATED = (
    "This secret was already rotated with this form; the new secret is not shown again."
)
FORM_EXPIRED = "This form has expired. Check the fields and submit again."


def _not_signed_in(request: Request):
    return error_page(request, "Sign in again, then retry.", status=401, title="Not signed in")


def _app_view(app: apps.App) -> dict:
    return {
        "app": app,
        "logo_url": https_or_none(app.logo_url),
        "created": when(app.created_at),
        "grace_until": when(app.previous_secret_expires_at),
        "scope_descriptions": [(s, scopes.SCOPES.get(s, s)) for s in app.scopes],
    }


# The list and the "New application" form.


@router.get("/settings/oauth")
async def app_list(request: Request, deleted: str | None = None):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        owned = await apps.list_apps(s, owner_id=user.id)
    return page(
        request,
        "settings/apps.html",
        no_store=True,
        apps=[_app_view(a) for a in owned],
        deleted=deleted == "1",
    )


def _new_form(request: Request, form: AppForm, nonce: str, *, status: int = 200, notice=None):
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
async def new_app_form(request: Request):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        nonce = await apps.issue_form_nonce(
            s, user_id=user.id, purpose=apps.CREATE_APP, now=c.now()
        )
    return _new_form(request, AppForm(), nonce)


def _row_action(form, posted: AppForm) -> AppForm | None:
    """The form after an "add a row" or "remove this row" button, or None for a real submit."""
    if text(form, "action") == "add_uri":
        return posted.with_row_added()
    remove = text(form, "remove_uri")
    if remove.isdigit():
        return posted.with_row_removed(int(remove))
    return None


@router.post("/settings/oauth/new")
async def create_app(request: Request):
    form = await read_multi_form(request)
    c = ctx(request)
    posted = AppForm.from_post(form)
    nonce = text(form, "nonce")
    if (changed := _row_action(form, posted)) is not None:
        return _new_form(request, changed, nonce)
    posted = posted.compacted()
    fields = posted.fields()
    problems = apps.validate_fields(fields)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
        if problems:
            posted.errors = problems
            return _new_form(request, posted, nonce, status=400)
        claim = await apps.claim_form_nonce(
            s, user_id=user.id, purpose=apps.CREATE_APP, nonce=nonce, now=c.now()
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
            fresh = await apps.issue_form_nonce(
                s, user_id=user.id, purpose=apps.CREATE_APP, now=c.now()
            )
            return _new_form(request, posted, fresh, status=400, notice=FORM_EXPIRED)
        created, secret = await apps.create_app(s, owner_id=user.id, fields=fields, now=c.now())
        await apps.record_nonce_result(s, nonce=nonce, client_id=created.client_id)
    return page(
        request,
        "settings/app_secret.html",
        status=201,
        no_store=True,
        heading="Application created",
        app=created,
        client_secret=secret,
        rotated=False,
    )


# One app: view, edit, rotate the secret, delete.


async def _owned_page(request: Request, s, user: Account, client_id: str, **extra):
    c = ctx(request)
    app = await apps.get_app(s, owner_id=user.id, client_id=client_id)
    nonce = await apps.issue_form_nonce(
        s, user_id=user.id, purpose=apps.rotate_purpose(app.client_id), now=c.now()
    )
    values = {
        **_app_view(app),
        "form": extra.pop("form", None) or AppForm.from_fields(_fields_of(app)),
        "rotate_nonce": nonce,
        "grace_choices": GRACE_CHOICES,
        "active_tokens": await apps.count_active_tokens(s, client_id=app.client_id, now=c.now()),
        **extra,
    }
    return values


def _fields_of(app: apps.App) -> apps.AppFields:
    return apps.AppFields(
        name=app.name,
        description=app.description,
        logo_url=app.logo_url,
        website_url=app.website_url,
        redirect_uris=app.redirect_uris,
        scopes=app.scopes,
    )


@router.get("/settings/oauth/test-callback")
async def test_callback(request: Request):
    """The built-in redirect URI for "Test your integration": RFC 6749 §4.1.2 / §4.1.2.1."""
    c = ctx(request)
    query = request.query_params
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return see_other("/login?" + urlencode({"next": str(request.url.path)}))
        pending = await playground.find_test(
            s, user_id=user.id, state=query.get("state"), now=c.now()
        )
        app = (
            await apps.get_app(s, owner_id=user.id, client_id=pending.client_id)
            if pending
            else None
        )
    if pending is None or app is None:
        return error_page(
            request,
            "This test is unknown or has expired (tests last 10 minutes). Start it again from "
            "your app's page.",
            status=400,
            title="Test not found",
        )
    return page(
        request,
        "settings/app_test_callback.html",
        no_store=True,
        headers={"referrer-policy": "no-referrer"},
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
async def test_exchange(request: Request):
    """Redeem the test's code through the real token endpoint path, with the pasted secret."""
    form = await read_multi_form(request)
    c = ctx(request)
    state, code = text(form, "state"), text(form, "code")
    secret = text(form, "client_secret").strip()
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
        pending = await playground.find_test(s, user_id=user.id, state=state, now=c.now())
        if pending is None:
            return error_page(
                request,
                "This test is unknown, finished or has expired. Start it again from your app's page.",
                status=400,
                title="Test not found",
            )
        app = await apps.get_app(s, owner_id=user.id, client_id=pending.client_id)
        params = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "client_id": pending.client_id,
            "client_secret": secret,
            "code_verifier": pending.code_verifier,
        }
        shown_request = {**params, "client_secret": "(the secret you pasted; not stored)"}
        try:
            response = await handle_token_request(
                {k: v for k, v in params.items() if v},
                None,
                clients=SqlOAuthStore(s),
                grants=SqlOAuthStore(s),
                policy=c.policy,
                now=c.now(),
            )
        except OAuthError as exc:
            status, body, ok = exc.status, exc.to_dict(), False
        else:
            status, body, ok = 200, response.to_dict(), True
            await playground.finish_test(s, state=state)
    retry = not ok and body.get("error") == "invalid_client"
    return page(
        request,
        "settings/app_test_callback.html",
        no_store=True,
        headers={"referrer-policy": "no-referrer"},
        app=app,
        state=state,
        code=code if retry else None,
        error=None,
        error_description=None,
        iss=None,
        iss_ok=None,
        issuer=c.policy.issuer,
        scope=" ".join(pending.scope),
        result={
            "ok": ok,
            "status": status,
            "request": json.dumps(shown_request, indent=2),
            "response": json.dumps(body, indent=2),
            "access_token": body.get("access_token") if ok else None,
        },
    )


@router.get("/settings/oauth/{client_id}")
async def app_page(request: Request, client_id: str, saved: str | None = None):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        values = await _owned_page(request, s, user, client_id)
    return page(request, "settings/app.html", no_store=True, saved=saved == "1", **values)


@router.post("/settings/oauth/{client_id}")
async def update_app(request: Request, client_id: str):
    form = await read_multi_form(request)
    c = ctx(request)
    posted = AppForm.from_post(form)
    changed = _row_action(form, posted)
    if changed is None:
        posted = posted.compacted()
        problems = apps.validate_fields(posted.fields())
        posted.errors = problems or None
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
        if changed is None and not posted.errors:
            await apps.update_app(
                s, owner_id=user.id, client_id=client_id, fields=posted.fields(), now=c.now()
            )
            return see_other(f"/settings/oauth/{client_id}?saved=1")
        values = await _owned_page(request, s, user, client_id, form=changed or posted)
    status = 400 if changed is None else 200
    return page(request, "settings/app.html", status=status, no_store=True, saved=False, **values)


@router.post("/settings/oauth/{client_id}/rotate")
async def rotate_secret(request: Request, client_id: str):
    form = await read_multi_form(request)
    c = ctx(request)
    grace = text(form, "grace_seconds")
    allowed = {str(seconds) for seconds, _ in GRACE_CHOICES}
    if grace not in allowed:
        raise ValidationError("Choose when the old secret stops working", field="grace_seconds")
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
        app = await apps.get_app(s, owner_id=user.id, client_id=client_id)
        claim = await apps.claim_form_nonce(
            s,
            user_id=user.id,
            purpose=apps.rotate_purpose(app.client_id),
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
        secret = await apps.rotate_secret(
            s, owner_id=user.id, client_id=client_id, now=c.now(), grace_seconds=int(grace)
        )
        app = await apps.get_app(s, owner_id=user.id, client_id=client_id)
    return page(
        request,
        "settings/app_secret.html",
        no_store=True,
        heading="New client secret",
        app=app,
        client_secret=secret,
        rotated=True,
        grace_until=when(app.previous_secret_expires_at),
    )


@router.get("/settings/oauth/{client_id}/delete")
async def delete_confirm(request: Request, client_id: str):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        app = await apps.get_app(s, owner_id=user.id, client_id=client_id)
        active = await apps.count_active_tokens(s, client_id=app.client_id, now=c.now())
    return page(request, "settings/app_delete.html", no_store=True, app=app, active_tokens=active)


@router.post("/settings/oauth/{client_id}/delete")
async def delete_app(request: Request, client_id: str):
    form = await read_multi_form(request)
    c = ctx(request)
    if text(form, "confirm") != "delete":
        raise ValidationError("Confirm the deletion on the confirmation page", field="confirm")
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
        await apps.delete_app(s, owner_id=user.id, client_id=client_id)
    return see_other("/settings/oauth?deleted=1")


# Test your integration.


@router.get("/settings/oauth/{client_id}/test")
async def test_page(request: Request, client_id: str, error: str | None = None):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        app = await apps.get_app(s, owner_id=user.id, client_id=client_id)
    callback = playground.callback_uri(c.settings.public_url)
    return page(
        request,
        "settings/app_test.html",
        no_store=True,
        app=app,
        callback=callback,
        callback_registered=callback in app.redirect_uris,
        scope_descriptions=[(sc, scopes.SCOPES.get(sc, sc)) for sc in app.scopes],
        error=None,
    )


@router.post("/settings/oauth/{client_id}/test/callback")
async def register_test_callback(request: Request, client_id: str):
    await read_multi_form(request)
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
        await apps.add_redirect_uri(
            s,
            owner_id=user.id,
            client_id=client_id,
            uri=playground.callback_uri(c.settings.public_url),
            now=c.now(),
        )
    return see_other(f"/settings/oauth/{client_id}/test")


@router.post("/settings/oauth/{client_id}/test")
async def start_test(request: Request, client_id: str):
    form = await read_multi_form(request)
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
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
            app = await apps.get_app(s, owner_id=user.id, client_id=client_id)
            callback = playground.callback_uri(c.settings.public_url)
            return page(
                request,
                "settings/app_test.html",
                status=400,
                no_store=True,
                app=app,
                callback=callback,
                callback_registered=callback in app.redirect_uris,
                scope_descriptions=[(sc, scopes.SCOPES.get(sc, sc)) for sc in app.scopes],
                error=exc.description,
            )
    target = urlsplit(started.authorize_url)
    return see_other(f"{target.path}?{target.query}")


# Connected apps.


@router.get("/settings/connected-apps")
async def connected_apps(request: Request, revoked: str | None = None):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        connected = await apps.connected_apps(s, user_id=user.id)
    return page(
        request,
        "settings/connected_apps.html",
        no_store=True,
        revoked=revoked == "1",
        connected=[
            {
                "app": a,
                "logo_url": https_or_none(a.logo_url),
                "website_url": https_or_none(a.website_url),
                "scopes": [(sc, scopes.SCOPES.get(sc, sc)) for sc in a.scopes],
                "authorized": when(a.authorized_at),
                "last_used": when(a.last_used_at),
            }
            for a in connected
        ],
    )


@router.post("/settings/connected-apps/{client_id}/revoke")
async def revoke_access(request: Request, client_id: str):
    await read_multi_form(request)
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return _not_signed_in(request)
        count = await apps.revoke_access(s, user_id=user.id, client_id=client_id, now=c.now())
    if count == 0:
        raise NotFound("This app has no access to revoke")
    return see_other("/settings/connected-apps?revoked=1")
