"""The hot endpoints are dispatched ahead of FastAPI's router (web/hot.py): same answers."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from piksend.web.hot import HotRouteError, hot, hot_routes
from piksend.web.routes import oauth
from tests.conftest import METRICS

HOT_PATHS = {
    ("POST", "/api/oauth/token"),
    ("POST", "/api/oauth/introspect"),
    ("POST", "/api/oauth/revoke"),
    ("GET", "/api/v1/me"),
}


async def test_the_hot_routes_are_the_ones_marked_and_each_is_documented(app):
    marked = hot_routes(app.routes)
    assert {(m, r.path) for r in marked for m in r.methods - {"HEAD"}} == HOT_PATHS
    paths = app.openapi()["paths"]
    for method, path in HOT_PATHS:
        assert method.lower() in paths[path], (method, path)


def test_a_hot_route_that_gains_a_dependency_is_refused_at_start_up():
    async def needs_something() -> str:
        return "x"

    probe = FastAPI()

    @probe.get("/probe")
    @hot
    async def endpoint(request: Request, thing: str = Depends(needs_something)) -> JSONResponse:
        return JSONResponse({"thing": thing})

    with pytest.raises(HotRouteError, match="needs_something"):
        hot_routes(probe.routes)


def test_a_hot_route_with_a_query_parameter_is_refused_at_start_up():
    probe = FastAPI()

    @probe.get("/probe")
    @hot
    async def endpoint(request: Request, limit: int = 10) -> JSONResponse:
        return JSONResponse({"limit": limit})

    with pytest.raises(HotRouteError, match="limit"):
        hot_routes(probe.routes)


async def test_other_methods_on_a_hot_path_still_get_405_with_allow(http):
    response = await http.get("/api/oauth/token")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


async def test_hot_answers_carry_the_middlewares_headers(http):
    response = await http.post("/api/oauth/introspect", data={"token": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_an_unexpected_error_in_a_hot_endpoint_is_the_apps_json_500(
    http, monkeypatch, caplog
):
    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(oauth, "handle_token_request", broken)
    response = await http.post("/api/oauth/token", data={"grant_type": "refresh_token"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "error_description": "The server met an unexpected error",
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "unexpected error on POST /api/oauth/token" in caplog.text


@pytest.mark.parametrize("path", ["/api/oauth/token", "/api/oauth/introspect"])
async def test_a_body_over_the_limit_is_refused_before_a_hot_endpoint(http, path):
    response = await http.post(
        path, content=b"a=" + b"x" * 2_000_000, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413


async def test_a_streamed_body_over_the_limit_is_cut_off_with_a_json_413(http):
    async def chunks():
        for _ in range(40):
            yield b"x" * 4096

    response = await http.post(
        "/api/oauth/token",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_hot_requests_are_counted_under_their_route_template(http):
    await http.post("/api/oauth/revoke", data={"token": "x"})
    text = (await http.get("/metrics", headers=METRICS)).text
    assert (
        'piksend_http_requests_total{method="POST",route="/api/oauth/revoke",status="401"} 1.0'
        in text
    )


def _comparable(response) -> tuple:
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k != "date")
    return response.status_code, headers, response.content


async def test_the_front_and_the_middleware_stack_answer_byte_for_byte_alike(
    app, http, driver, registered
):
    """HotFront (web/hot.py) stands in for the middlewares on plain requests: with it off,
    every request below goes through the whole stack, and must get the very same answer."""
    tokens = await driver.tokens(registered)
    access = tokens["access_token"]
    client = {"client_id": registered.client_id, "client_secret": registered.client_secret}
    requests = [
        ("POST", "/api/oauth/introspect", {"data": {"token": access, **client}}),
        ("POST", "/api/oauth/introspect", {"json": {"token": access, **client}}),
        ("POST", "/api/oauth/introspect", {"data": {"token": "pks_at_nothing", **client}}),
        ("POST", "/api/oauth/introspect", {"data": {"token": access}}),  # no client: 401
        ("POST", "/api/oauth/token", {"data": {"grant_type": "refresh_token", **client}}),
        ("POST", "/api/oauth/token", {"json": {"grant_type": "nope", **client}}),
        (
            "POST",
            "/api/oauth/token",
            {"content": b'{"a":1,"a":2}', "headers": {"content-type": "application/json"}},
        ),
        ("POST", "/api/oauth/revoke", {"data": {"token": "pks_rt_nothing", **client}}),
        ("GET", "/api/v1/me", {"headers": {"authorization": f"Bearer {access}"}}),
        ("GET", "/api/v1/me", {"headers": {"authorization": "Bearer pks_at_nothing"}}),
        ("GET", "/api/v1/me", {}),
    ]
    front = app.hot_front
    assert front is not None
    for method, path, kwargs in requests:
        assert front.claims(_scope_of(method, path, kwargs)) is not None, (method, path)
        fast = await http.request(method, path, **kwargs)
        app.hot_front = None
        try:
            slow = await http.request(method, path, **kwargs)
        finally:
            app.hot_front = front
        assert _comparable(fast) == _comparable(slow), (method, path, kwargs)


def _scope_of(method: str, path: str, kwargs: dict) -> dict:
    import httpx

    request = httpx.Request(method, "http://x" + path, **kwargs)
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
    }


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("POST", {"origin": "https://app.example.com", "content-length": "2"}),  # CORS decides
        ("POST", {"transfer-encoding": "chunked"}),  # the streamed limit applies
        ("POST", {}),  # no declared length
        ("POST", {"content-length": "99999999"}),  # over the limit: 413 from the stack
        ("POST", {"content-length": "x"}),
    ],
)
def test_what_needs_a_middlewares_decision_goes_through_the_stack(app, method, headers):
    scope = {
        "type": "http",
        "method": method,
        "path": "/api/oauth/token",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    assert app.hot_front.claims(scope) is None


def test_a_json_body_on_a_get_goes_through_the_stacks_duplicate_key_check(app):
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/me",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"13")],
    }
    assert app.hot_front.claims(scope) is None
    scope["headers"] = [(b"authorization", b"Bearer x")]
    assert app.hot_front.claims(scope) is not None
