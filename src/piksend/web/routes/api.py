"""The PikSend API under /api/v1, guarded by bearer tokens and scopes (RFC 6750)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from piksend.oauth.bearer import authenticate_bearer, require_scope
from piksend.oauth.errors import BearerTokenError
from piksend.oauth.types import TokenRecord
from piksend.storage.oauth_store import SqlOAuthStore
from piksend.web.context import ctx
from piksend.web.hot import hot
from piksend.web.routes.api_docs import guarded

router = APIRouter(prefix="/api/v1")


async def api_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with ctx(request).db.unit_of_work() as session:
        yield session


async def api_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For GETs that only read: no transaction to open and commit."""
    async with ctx(request).db.reader() as session:
        yield session


@dataclass(frozen=True)
class ApiCall:
    session: AsyncSession
    token: TokenRecord

    @property
    def user_id(self) -> str:
        return self.token.user_id


def bearer(scope: str, *, read_only: bool = False):
    """A dependency: the request's access token, checked, holding ``scope``."""
    session_dependency = api_read_session if read_only else api_session

    async def dependency(
        request: Request, session: AsyncSession = Depends(session_dependency, scope="function")
    ) -> ApiCall:
        record = await authenticate_bearer(
            request.headers.get("authorization"),
            grants=SqlOAuthStore(session),
            now=ctx(request).now(),
        )
        require_scope(record, scope)
        return ApiCall(session=session, token=record)

    dependency.__name__ = f"bearer_{scope.replace(':', '_')}"
    return dependency


@router.get(
    "/me", summary="The signed-in user's profile", tags=["profile"], **guarded("profile:read")
)
@hot
async def me(request: Request) -> JSONResponse:
    # The hottest bearer GET: one round trip on the fast path (the token's SELECT carries
    # its owner's profile), and no dependency solving.
    c = ctx(request)
    async with c.db.oauth_unit(write=False) as store:
        record = await authenticate_bearer(
            request.headers.get("authorization"), grants=store, now=c.now()
        )
        require_scope(record, "profile:read")
        user = await store.get_profile(record.user_id)
    if user is None:
        raise BearerTokenError.invalid("The access token is invalid")
    return JSONResponse(
        {"id": user.id, "name": user.name, "email": user.email, "avatar_url": user.avatar_url}
    )
