"""GET /api/v1/me: the token owner's profile, a hot endpoint (RFC 6750 §2.1 bearer check for
the API resource, RFC 8707 §2)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from piksend.oauth import resources
from piksend.oauth.bearer import authenticate_bearer
from piksend.oauth.errors import BearerTokenError
from piksend.web import rate_limits
from piksend.web.context import ctx
from piksend.web.hot import hot
from piksend.web.json_response import FastJSONResponse
from piksend.web.routes.api_v1.common import scoped

router = APIRouter(tags=["profile"])

PROFILE = scoped("profile:read")


class ProfileOut(BaseModel):
    """The answer's shape, for the OpenAPI document only: the handler writes it directly."""

    id: str = Field(description="The user's id, which never changes")
    name: str
    email: str = Field(
        description="What the user typed until email_verified is true: never link accounts on it before"
    )
    email_verified: bool = Field(description="The user opened the link mailed to this address")
    avatar_url: str | None


@router.get(
    "/me",
    summary="The signed-in user's profile",
    **PROFILE.route(responses={200: {"model": ProfileOut, "description": "The profile"}}),
)
@hot
async def me(request: Request) -> JSONResponse:
    # The hottest bearer GET: one round trip on the fast path (the token's SELECT carries
    # its owner's profile), and no dependency solving, so the scope is checked here.
    c = ctx(request)
    api = resources.api_resource(c.policy.issuer)
    async with c.db.oauth_unit(write=False) as store:
        record = await authenticate_bearer(
            request.headers.get("authorization"),
            grants=store,
            now=c.now(),
            resource=api,
            scope=PROFILE.scope,
        )
        user = await store.get_profile(record.user_id)
    if user is None:
        raise BearerTokenError.invalid("The access token is invalid").at(
            resource_metadata=resources.metadata_url(api), scope=PROFILE.scope
        )
    # Counting costs a write per request, so the hot /me is counted only when configured
    # (PIKSEND_API_LIMIT_ME=1): by default it stays one round trip on PostgreSQL.
    headers: dict[str, str] = {}
    if c.settings.api_limit_me:
        headers = await rate_limits.count_api_request(
            request, token_digest=record.digest, client_id=record.client_id
        )
    return FastJSONResponse(
        headers=headers,
        content={
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "email_verified": user.email_verified,
            "avatar_url": user.avatar_url,
        },
    )
