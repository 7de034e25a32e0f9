"""Dynamic client registration (RFC 7591 §3) and its management (RFC 7592 §2.1, §2.3), as JSON
with ``Cache-Control: no-store``; absent when the operator turned registration off."""

from __future__ import annotations

import json

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from piksend.clients import dynamic
from piksend.oauth.errors import BearerTokenError, InvalidClientMetadataError, OAuthError
from piksend.oauth.registration import RegistrationPolicy, validate_metadata
from piksend.web.client_address import client_network
from piksend.web.context import ctx
from piksend.web.render import bearer_error_json, oauth_error_json
from piksend.web.security import NO_STORE

router = APIRouter()

PATH = dynamic.REGISTRATION_PATH
TOO_MANY = "Too many registrations from this address; try again later"


def _policy(request: Request) -> RegistrationPolicy:
    return RegistrationPolicy(ctx(request).settings.dynamic_registration)


def _not_found() -> JSONResponse:
    return JSONResponse({"detail": "Not Found"}, status_code=404, headers=NO_STORE)


def _token(request: Request) -> str | None:
    """RFC 7592 §2: the registration access token as an RFC 6750 §2.1 bearer token."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@router.post(PATH, include_in_schema=False)
async def register(request: Request):
    policy = _policy(request)
    if policy is RegistrationPolicy.OFF:
        return _not_found()
    c = ctx(request)
    window = c.settings.request_window
    key = f"register:{client_network(request)}"
    if await c.throttle.counters.hit(key, window=window, now=c.now()) > (
        c.settings.registrations_per_address
    ):
        return JSONResponse(
            {"error": "too_many_requests", "error_description": TOO_MANY},
            status_code=429,
            headers={"retry-after": str(window), **NO_STORE},
        )
    try:
        body = _json_object(await request.body())
        metadata = validate_metadata(body, policy)
        async with c.db.unit_of_work() as session:
            answer = await dynamic.register(
                session, metadata=metadata, issuer=c.policy.issuer, now=c.now()
            )
    except OAuthError as exc:
        return oauth_error_json(exc)
    return JSONResponse(answer, status_code=201, headers=NO_STORE)


@router.get(PATH + "/{client_id}", include_in_schema=False)
async def read(request: Request, client_id: str):
    if _policy(request) is RegistrationPolicy.OFF:
        return _not_found()
    c = ctx(request)
    try:
        async with c.db.reader() as session:
            answer = await dynamic.read(
                session,
                client_id=client_id,
                registration_token=_token(request),
                issuer=c.policy.issuer,
            )
    except BearerTokenError as exc:
        return bearer_error_json(exc)
    return JSONResponse(answer, headers=NO_STORE)


@router.delete(PATH + "/{client_id}", include_in_schema=False)
async def remove(request: Request, client_id: str):
    if _policy(request) is RegistrationPolicy.OFF:
        return _not_found()
    c = ctx(request)
    try:
        async with c.db.unit_of_work() as session:
            await dynamic.remove(session, client_id=client_id, registration_token=_token(request))
    except BearerTokenError as exc:
        return bearer_error_json(exc)
    return Response(status_code=204, headers=NO_STORE)


def _json_object(raw: bytes) -> dict[str, object]:
    """RFC 7591 §3.1: the metadata is a JSON object."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidClientMetadataError("The request body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise InvalidClientMetadataError("The request body must be a JSON object")
    return body
