"""App management as JSON under /api/v1/oauth/apps, for automation and the pages.

Guarded like the pages: a signed-in browser session, plus the CSRF token in an
``X-CSRF-Token`` header on every unsafe method (the header cannot be set by a cross-site form).
Bearer tokens are refused: an OAuth app must never be able to manage OAuth apps.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from piksend.accounts.service import Account
from piksend.clients import registry
from piksend.clients.registry import App
from piksend.clients.validation import AppFields, validate_fields
from piksend.errors import Forbidden, Unauthorized, UnsupportedMediaType, ValidationError
from piksend.oauth.types import ClientType
from piksend.web import csrf
from piksend.web.auth import load_user
from piksend.web.context import ctx
from piksend.web.render import json_error
from piksend.web.security import NO_STORE

router = APIRouter(prefix="/api/v1/oauth/apps", tags=["oauth apps"])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELDS = ("name", "description", "logo_url", "website_url", "redirect_uris", "scopes")


async def _caller(request: Request, session: AsyncSession) -> Account:
    if request.headers.get("authorization") is not None:
        raise Forbidden(
            "App management accepts only a signed-in PikSend session with an X-CSRF-Token "
            "header; bearer tokens and other credentials are refused"
        )
    user = await load_user(request, session)
    if user is None:
        raise Unauthorized("Sign in to PikSend first")
    if request.method not in SAFE_METHODS:
        c = ctx(request)
        csrf.verify(
            request,
            request.headers.get("x-csrf-token"),
            c.settings.secret_key,
            c.settings.secure_cookies,
        )
    return user


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _app_json(app: App) -> dict[str, Any]:
    return {
        "client_id": app.client_id,
        "client_type": app.client_type.value,
        "token_endpoint_auth_method": app.token_endpoint_auth_method,
        "name": app.name,
        "description": app.description,
        "logo_url": app.logo_url,
        "website_url": app.website_url,
        "redirect_uris": list(app.redirect_uris),
        "scopes": list(app.scopes),
        "created_at": _iso(app.created_at),
        "updated_at": _iso(app.updated_at),
        "previous_secret_expires_at": _iso(app.previous_secret_expires_at),
    }


def _with_csrf(request: Request, response: Response) -> Response:
    """GET answers carry the CSRF token for the next unsafe call (readable same-origin only)."""
    c = ctx(request)
    response.headers["x-csrf-token"] = csrf.ensure_token(
        request, c.settings.secret_key, c.settings.secure_cookies
    )
    csrf.persist(request, response, c.settings.secure_cookies)
    response.headers.update(NO_STORE)
    return response


async def _body(request: Request, extra: frozenset[str] = frozenset()) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("Send a JSON body with Content-Type: application/json")
    try:
        data = json.loads(await request.body() or b"null")
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        raise ValidationError("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValidationError("The JSON body must be an object")
    if "client_type" in data and "client_type" not in extra:
        raise ValidationError(
            "Change the client type with POST /api/v1/oauth/apps/{client_id}/client-type",
            field="client_type",
        )
    unknown = sorted(set(data) - set(FIELDS) - {"grace_seconds"} - extra)
    if unknown:
        raise ValidationError(f"Unknown field: {', '.join(unknown)[:200]}", field=unknown[0])
    return data


def _string(data: dict[str, Any], name: str, default: str | None) -> str | None:
    value = data.get(name, default)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{name} must be a string", field=name)
    return value


def _strings(data: dict[str, Any], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = data.get(name, default)
    if isinstance(value, str) and name == "scopes":
        value = value.split()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name} must be a list of strings", field=name)
    return tuple(value)


def _fields(data: dict[str, Any], base: AppFields | None) -> AppFields:
    return AppFields(
        name=_string(data, "name", base.name if base else "") or "",
        description=_string(data, "description", base.description if base else "") or "",
        logo_url=_string(data, "logo_url", base.logo_url if base else None) or None,
        website_url=_string(data, "website_url", base.website_url if base else None) or None,
        redirect_uris=_strings(data, "redirect_uris", base.redirect_uris if base else ()),
        scopes=_strings(data, "scopes", base.scopes if base else ()),
    )


def _client_type(data: dict[str, Any], default: ClientType | None) -> ClientType:
    value = data.get("client_type", default)
    try:
        return ClientType(str(value))
    except ValueError:
        raise ValidationError(
            "client_type must be confidential or public", field="client_type"
        ) from None


def _with_secret(app: App, secret: str | None) -> dict[str, Any]:
    """The app's JSON with its new secret, shown this once (public apps have none)."""
    return _app_json(app) if secret is None else {**_app_json(app), "client_secret": secret}


def _invalid(problems: dict[str, str]) -> JSONResponse:
    field, message = next(iter(problems.items()))
    return json_error("validation_error", message, 422, field=field, fields=problems)


@router.get("")
async def list_apps(request: Request):
    async with ctx(request).db.unit_of_work() as s:
        user = await _caller(request, s)
        owned = await registry.list_apps(s, owner_id=user.id)
    return _with_csrf(request, JSONResponse({"apps": [_app_json(a) for a in owned]}))


@router.post("")
async def create(request: Request):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await _caller(request, s)
        data = await _body(request, frozenset({"client_type"}))
        client_type = _client_type(data, ClientType.CONFIDENTIAL)
        fields = _fields(data, None)
        if problems := validate_fields(fields, client_type):
            return _invalid(problems)
        app, secret = await registry.create_app(
            s, owner_id=user.id, fields=fields, now=c.now(), client_type=client_type
        )
    return JSONResponse(_with_secret(app, secret), status_code=201, headers=NO_STORE)


@router.get("/{client_id}")
async def show(request: Request, client_id: str):
    async with ctx(request).db.unit_of_work() as s:
        user = await _caller(request, s)
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
    return _with_csrf(request, JSONResponse(_app_json(app)))


@router.patch("/{client_id}")
async def update(request: Request, client_id: str):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await _caller(request, s)
        current = await registry.get_app(s, owner_id=user.id, client_id=client_id)
        fields = _fields(await _body(request), current.fields())
        if problems := validate_fields(fields, current.client_type, verified=current.verified):
            return _invalid(problems)
        app = await registry.update_app(
            s, owner_id=user.id, client_id=client_id, fields=fields, now=c.now()
        )
    return JSONResponse(_app_json(app), headers=NO_STORE)


@router.post("/{client_id}/rotate-secret")
async def rotate(request: Request, client_id: str):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await _caller(request, s)
        data = await _body(request) if await request.body() else {}
        grace = data.get("grace_seconds", 0)
        if not isinstance(grace, int) or isinstance(grace, bool):
            raise ValidationError("grace_seconds must be an integer", field="grace_seconds")
        secret = await registry.rotate_secret(
            s, owner_id=user.id, client_id=client_id, now=c.now(), grace_seconds=grace
        )
        app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
    return JSONResponse({**_app_json(app), "client_secret": secret}, headers=NO_STORE)


@router.post("/{client_id}/client-type")
async def change_client_type(request: Request, client_id: str):
    """Making an app public deletes its secrets; making it confidential issues one, shown once."""
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await _caller(request, s)
        data = await _body(request, frozenset({"client_type"}))
        if "client_type" not in data:
            raise ValidationError("client_type is required", field="client_type")
        wanted = _client_type(data, None)
        secret = None
        if wanted is ClientType.PUBLIC:
            app = await registry.make_public(s, owner_id=user.id, client_id=client_id, now=c.now())
        else:
            secret = await registry.make_confidential(
                s, owner_id=user.id, client_id=client_id, now=c.now()
            )
            app = await registry.get_app(s, owner_id=user.id, client_id=client_id)
    return JSONResponse(_with_secret(app, secret), headers=NO_STORE)


@router.delete("/{client_id}")
async def delete(request: Request, client_id: str):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await _caller(request, s)
        await registry.delete_app(s, owner_id=user.id, client_id=client_id)
    return Response(status_code=204, headers=NO_STORE)
