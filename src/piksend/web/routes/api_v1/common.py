"""What every /api/v1 operation shares: its scope declared once (RFC 6750 §3 bearer check and
OpenAPI security together), the request's session, and the path and paging parameters. The API
is one protected resource (RFC 8707 §2, RFC 9728): it accepts only tokens bound to it."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from piksend.gallery.pagination import MAX_LIMIT
from piksend.oauth import resources
from piksend.oauth.bearer import authenticate_bearer, require_scope
from piksend.oauth.types import TokenRecord
from piksend.storage.oauth import SqlOAuthStore
from piksend.web import rate_limits
from piksend.web.context import ctx
from piksend.web.routes.api_docs import guarded

Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Any]])

Id = Annotated[str, Path(min_length=1, max_length=40)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def omittable(**constraints: Any) -> Any:
    """A PATCH field that may be left out but never sent as null: pydantic does not validate
    the default, and ``model_dump(exclude_unset=True)`` never shows it."""
    return Field(default=None, **constraints)


@dataclass(frozen=True)
class ApiCall:
    """An authenticated API request: its unit of work and its access token."""

    session: AsyncSession
    token: TokenRecord

    @property
    def user_id(self) -> str:
        return self.token.user_id


async def api_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with ctx(request).db.unit_of_work() as session:
        yield session


@dataclass(frozen=True)
class Scoped:
    """One operation's scope and the error statuses it documents besides 400, 401 and 403."""

    scope: str
    statuses: tuple[int, ...] = ()

    def route(self, **route: Any) -> dict[str, Any]:
        """Route keyword arguments: ``route`` with the scope's security, description and error
        responses merged in (``responses`` and ``openapi_extra`` are merged, not replaced)."""
        docs = guarded(self.scope, *self.statuses)
        for key in ("responses", "openapi_extra"):
            docs[key] = {**docs[key], **route.pop(key, {})}
        return docs | route

    def require(self, token: TokenRecord) -> None:
        """RFC 6750 §3.1 insufficient_scope unless ``token`` holds the scope."""
        require_scope(token, self.scope)

    def dependency(self) -> Callable[..., Awaitable[ApiCall]]:
        """The request's access token, checked and holding the scope, with its session."""

        async def dependency(
            request: Request,
            response: Response,
            session: AsyncSession = Depends(api_session, scope="function"),
        ) -> ApiCall:
            c = ctx(request)
            record = await authenticate_bearer(
                request.headers.get("authorization"),
                grants=SqlOAuthStore(session),
                now=c.now(),
                resource=resources.api_resource(c.policy.issuer),
                scope=self.scope,
            )
            # Per token and per app (web/rate_limits.py): the RateLimit fields, or a 429.
            response.headers.update(
                await rate_limits.count_api_request(
                    request,
                    token_digest=record.digest,
                    client_id=record.client_id,
                    session=session,
                )
            )
            return ApiCall(session=session, token=record)

        dependency.__name__ = f"bearer_{self.scope.replace(':', '_')}"
        return dependency


def scoped(scope: str, *statuses: int) -> Scoped:
    return Scoped(scope, statuses)


def operation(
    register: Callable[..., Callable[[Endpoint], Endpoint]],
    path: str,
    access: Scoped,
    **route: Any,
) -> Callable[[Endpoint], Endpoint]:
    """Register an endpoint with ``register`` (``router.get``…) under ``access``: the route
    documents its scope, and the endpoint's ``call: ApiCall`` parameter becomes the bearer
    check enforcing that same scope."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        signature = inspect.signature(endpoint, eval_str=True)
        if "call" not in signature.parameters:
            raise TypeError(f"{endpoint.__name__} must take `call: ApiCall`")
        checked = Annotated[ApiCall, Depends(access.dependency(), scope="function")]
        parameters = [
            p.replace(annotation=checked) if p.name == "call" else p
            for p in signature.parameters.values()
        ]
        endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return register(path, **access.route(**route))(endpoint)

    return decorate
