"""The hot endpoints, dispatched ahead of FastAPI's router.

Token, introspection, revocation and GET /api/v1/me are what every app calls all the time.
They are plain ``async def endpoint(request) -> Response`` functions declared once, as FastAPI
routes marked with ``@hot`` (that is where the OpenAPI document and every other method come
from); ``hot_routes(app)`` collects them. Two dispatches hand them an exact (method, path) match:

- ``HotFront``, ahead of everything (``PiksendApp.__call__``): the plain case — no ``Origin``
  (no CORS to decide), a body of declared length within the limit, no JSON body on a GET —
  runs the endpoint and applies what the middlewares would (metrics, security headers, Vary)
  in one place, once. The middleware stack was ~20-25 % of an introspection's CPU
  (bench/RESULTS.md, session 4).
- ``HotRoutes``, innermost in the middleware stack, for every other request to a hot route:
  without FastAPI's route matching and request machinery (~15-20 %).

Exceptions go to the same handlers the app registered, so the responses are the same either
way (tests/http/test_hot_routes.py compares the two dispatches header by header).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piksend.web import cors
from piksend.web.access_log import AccessLog
from piksend.web.json_body import READ_BY_PARAMS
from piksend.web.security import COMMON_HEADERS, HSTS

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


def _handler_for(owner: FastAPI, exc: Exception) -> Any:
    handlers = owner.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


class HotRoutes:
    def __init__(self, app: ASGIApp, *, owner: FastAPI, routes: Iterable[Route]) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app, whose exception handlers answer for errors
        self.table: dict[tuple[str, str], Route] = {
            (method, route.path): route for route in routes for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.table.get((scope["method"], scope["path"]))
            if route is not None:
                scope["route"] = route  # the metrics label, as the router would set it
                request = Request(scope, receive, send)
                try:
                    response = await route.endpoint(request)
                except Exception as exc:
                    handler = _handler_for(self.owner, exc)
                    if handler is None:
                        raise
                    response = await handler(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class HotFront:
    """The hot routes' plain requests, answered ahead of the middleware stack.

    What the stack would add is added here, the same way: the security headers
    (``SecurityHeadersMiddleware``; hot answers are JSON, never HTML), ``Vary: Origin`` on the
    API's answers (``CorsMiddleware`` without an ``Origin``), the request count and latency
    under the route's template (``MetricsMiddleware``). What would need a decision falls
    through to the stack (``claims``): an ``Origin`` header (CORS), a body without a declared
    length or over the limit (``BodyLimitMiddleware`` answers 413 or cuts it off), a JSON body
    on a path that does not read its own (``UniqueJsonKeysMiddleware``).
    """

    def __init__(
        self,
        owner: FastAPI,
        routes: Iterable[Route],
        *,
        metrics: Any,
        body_limit: int,
        hsts: bool,
    ) -> None:
        self.owner = owner
        self.metrics = metrics
        self.body_limit = body_limit
        self.table: dict[tuple[str, str], Route] = {
            (method, route.path): route for route in routes for method in route.methods or ()
        }
        common = {**COMMON_HEADERS, **({"strict-transport-security": HSTS} if hsts else {})}
        self.extra = [(k.encode(), v.encode()) for k, v in common.items()]
        self.vary = {
            path: (rule := cors.rule_for(path)) is not None and rule is not cors.CLIENT_RULE
            for _, path in self.table
        }
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    def claims(self, scope: Scope) -> Route | None:
        """The hot route for this request, if the front can answer it as the stack would."""
        route = self.table.get((scope["method"], scope["path"]))
        if route is None:
            return None
        length = None
        for name, value in scope["headers"]:
            if name == b"origin" or name == b"transfer-encoding":
                return None
            if name == b"content-length":
                length = value
            elif name == b"content-type" and scope["path"] not in READ_BY_PARAMS:
                media = value.split(b";", 1)[0].strip().lower()
                if media == b"application/json" or media.endswith(b"+json"):
                    return None
        if length is not None:
            try:
                if int(length) > self.body_limit:
                    return None
            except ValueError:
                return None
        elif scope["method"] == "POST":
            return None  # a POST with no declared length: the stack's streamed limit applies
        return route

    async def serve(self, route: Route, scope: Scope, receive: Receive, send: Send) -> int:
        started = time.perf_counter()
        status = 500
        scope["app"] = self.owner
        scope["route"] = route  # the metrics label, as the router would set it
        request = Request(scope, receive, send)
        try:
            try:
                response = await route.endpoint(request)
            except Exception as exc:
                handler = _handler_for(self.owner, exc)
                if handler is None:
                    raise
                response = await handler(request, exc)
            status = response.status_code
            headers = response.raw_headers
            present = {name for name, _ in headers}
            headers = headers + [h for h in self.extra if h[0] not in present]
            if self.vary[route.path]:
                headers = cors.with_vary(list(headers))
            body = getattr(response, "body", None)
            if isinstance(body, bytes) and response.background is None:
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            else:  # a streamed answer or one with a background task: Starlette sends it
                response.raw_headers = headers
                await response(scope, receive, send)
        finally:
            self._count(scope["method"], route.path, status, time.perf_counter() - started)
        return status

    def _count(self, method: str, template: str, status: int, elapsed: float) -> None:
        counter = self._counters.get((method, template, status))
        if counter is None:
            counter = self.metrics.requests.labels(method, template, str(status))
            self._counters[(method, template, status)] = counter
        timer = self._timers.get((method, template))
        if timer is None:
            timer = self._timers[(method, template)] = self.metrics.latency.labels(method, template)
        counter.inc()
        timer.observe(elapsed)


class PiksendApp(FastAPI):
    """FastAPI, with the hot routes' plain requests answered by ``HotFront`` first, and each
    HTTP request's access-log line written here (``web/access_log.py``) when one is kept."""

    hot_front: HotFront | None = None
    access_log: AccessLog | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        front, log = self.hot_front, self.access_log
        route = front.claims(scope) if front is not None else None
        if route is not None and front is not None:
            status = await front.serve(route, scope, receive, send)
            if log is not None:
                log.request(scope, status)
            return
        if log is None:
            await super().__call__(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await super().__call__(scope, receive, send_status)
        finally:
            log.request(scope, status)
