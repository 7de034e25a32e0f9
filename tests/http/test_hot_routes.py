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
