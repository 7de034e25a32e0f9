"""The hot endpoints, dispatched ahead of FastAPI's router.

Token, introspection, revocation and GET /api/v1/me are what every app calls all the time.
They are plain ``async def endpoint(request) -> Response`` functions declared once, as FastAPI
routes marked with ``@hot`` (that is where the OpenAPI document and every other method come
from); ``hot_routes(app)`` collects them, and an exact
(method, path) match is handed to the endpoint here, inside the app's own middlewares
(metrics, security headers, body limit), without FastAPI's route matching and request
machinery: profiled at ~15-20 % of an introspection's CPU (bench/RESULTS.md). Exceptions
go to the same handlers the app registered, so the responses are the same either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

_MARK = "__piksend_hot__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])


def hot(endpoint: Endpoint) -> Endpoint:
    """Mark a route's endpoint to be dispatched ahead of FastAPI's router.

    The endpoint must take the request alone: the hot dispatch calls ``endpoint(request)``
    and solves no dependencies, so ``hot_routes`` refuses a marked route that declares any.
    """
    setattr(endpoint, _MARK, True)
    return endpoint


class HotRouteError(RuntimeError):
    """A route marked hot declares what the hot dispatch would silently skip."""


def hot_routes(routes: Iterable[BaseRoute]) -> tuple[Route, ...]:
    """The routes whose endpoints are marked ``@hot`` (with their routers' prefixes), each
    checked to need nothing FastAPI would solve: a dependency or parameter added to a hot
    route later fails here, at start-up, instead of being skipped silently."""
    found = []
    for context in iter_route_contexts(list(routes)):
        endpoint, path = context.endpoint, context.path
        if endpoint is None or path is None or not getattr(endpoint, _MARK, False):
            continue
        dependant = context.dependant  # with the including routers' dependencies
        skipped = [d.call for d in dependant.dependencies if d.call is not None]
        params = (
            dependant.path_params
            + dependant.query_params
            + dependant.header_params
            + dependant.cookie_params
            + dependant.body_params
        )
        if skipped or params or dependant.request_param_name is None:
            raise HotRouteError(
                f"{path} is marked hot but declares dependencies or parameters "
                f"({[getattr(c, '__name__', repr(c)) for c in skipped]}, "
                f"{[p.name for p in params]}): the hot dispatch would skip them. "
                "Take only the request, or drop @hot."
            )
        found.append(Route(path, endpoint, methods=sorted(context.methods or ())))
    return tuple(found)


class HotRoutes:
    def __init__(self, app: ASGIApp, *, owner: FastAPI, routes: Iterable[Route]) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app, whose exception handlers answer for errors
        self.table: dict[tuple[str, str], Route] = {
            (method, route.path): route for route in routes for method in route.methods or ()
        }

    def _handler_for(self, exc: Exception) -> Any:
        handlers = self.owner.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.table.get((scope["method"], scope["path"]))
            if route is not None:
                scope["route"] = route  # the metrics label, as the router would set it
                request = Request(scope, receive, send)
                try:
                    response = await route.endpoint(request)
                except Exception as exc:
                    handler = self._handler_for(exc)
                    if handler is None:
                        raise
                    response = await handler(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
