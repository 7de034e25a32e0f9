"""The hot endpoints, dispatched ahead of FastAPI's router.

Token, introspection, revocation and GET /api/v1/me are what every app calls all the time.
They are plain ``async def endpoint(request) -> Response`` functions declared as FastAPI routes
(that is where the OpenAPI document and every other method come from), but an exact
(method, path) match is handed to the endpoint here, inside the app's own middlewares
(metrics, security headers, body limit), without FastAPI's route matching and request
machinery: profiled at ~15-20 % of an introspection's CPU (bench/RESULTS.md). Exceptions
go to the same handlers the app registered, so the responses are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


class HotRoutes:
    def __init__(self, app: ASGIApp, *, owner, routes: Iterable[Route]) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app, whose exception handlers answer for errors
        self.table: dict[tuple[str, str], Route] = {
            (method, route.path): route for route in routes for method in route.methods or ()
        }

    def _handler_for(self, exc: Exception):
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
