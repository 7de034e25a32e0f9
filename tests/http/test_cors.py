"""CORS for browser-based apps (issue 12, item 3; the Fetch standard's CORS protocol): the token
and revocation endpoints for the origins of the client's redirect URIs, metadata and /api/v1 for
any origin, nothing for pages; never credentials; Vary: Origin. On both databases."""

from __future__ import annotations

import pytest

from piksend.oauth.types import ClientType

SPA = "https://spa.example.com"
EVIL = "https://evil.example.net"
TOKEN_PREFLIGHT = {
    "access-control-allow-origin": SPA,
    "access-control-allow-methods": "POST",
    "access-control-allow-headers": "Authorization, Content-Type",
    "access-control-max-age": "600",
}


def cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def preflight(http, path: str, origin: str, method: str = "POST"):
    return http.options(
        path,
        headers={
            "origin": origin,
            "access-control-request-method": method,
            "access-control-request-headers": "content-type",
        },
    )


@pytest.fixture
async def spa(driver, alice):
    return await driver.register_app(
        alice.id,
        redirect_uris=(f"{SPA}/callback",),
        client_type=ClientType.PUBLIC,
        scopes="profile:read",
    )


@pytest.mark.parametrize("path", ["/api/oauth/token", "/api/oauth/revoke"])
async def test_a_preflight_from_a_registered_redirect_origin_is_answered(http, spa, path):
    response = await preflight(http, path, SPA)
    assert (response.status_code, cors_headers(response), response.headers["vary"]) == (
        204,
        TOKEN_PREFLIGHT,
        "Origin",
    )


@pytest.mark.parametrize(
    "origin",
    [
        EVIL,
        "https://spa.example.com.evil.example.net",
        "https://spa.example.com:8443",
        "http://spa.example.com",
        "null",
    ],
)
async def test_a_preflight_from_any_other_origin_gets_no_cors_headers(http, spa, origin):
    response = await preflight(http, "/api/oauth/token", origin)
    assert (response.status_code, cors_headers(response)) == (405, {})


async def test_a_token_response_carries_cors_for_the_clients_own_redirect_origin(driver, spa):
    auth = await driver.authorize_and_approve(spa)
    response = await driver.http.post(
        "/api/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": auth.code,
            "redirect_uri": auth.redirect_uri,
            "client_id": spa.client_id,
            "code_verifier": auth.verifier,
        },
        headers={"origin": SPA},
    )
    assert response.status_code == 200, response.text
    assert (cors_headers(response), response.headers["vary"]) == (
        {"access-control-allow-origin": SPA},
        "Origin",
    )


async def test_an_error_from_the_token_endpoint_is_readable_by_the_clients_origin(driver, spa):
    response = await driver.http.post(
        "/api/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "nope", "client_id": spa.client_id},
        headers={"origin": SPA},
    )
    assert (response.status_code, response.json(), cors_headers(response)) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid refresh token"},
        {"access-control-allow-origin": SPA},
    )


async def test_another_apps_redirect_origin_gets_no_cors_for_this_client(driver, alice, spa):
    other = await driver.register_app(
        alice.id, redirect_uris=(f"{EVIL}/cb",), client_type=ClientType.PUBLIC
    )
    assert (await preflight(driver.http, "/api/oauth/token", EVIL)).status_code == 204
    response = await driver.http.post(
        "/api/oauth/revoke",
        data={"token": "anything", "client_id": spa.client_id},
        headers={"origin": EVIL},
    )
    assert (response.status_code, cors_headers(response), response.headers["vary"]) == (
        200,
        {},
        "Origin",
    )
    own = await driver.http.post(
        "/api/oauth/revoke",
        data={"token": "anything", "client_id": other.client_id},
        headers={"origin": EVIL},
    )
    assert cors_headers(own) == {"access-control-allow-origin": EVIL}


async def test_a_loopback_redirect_allows_its_ip_on_any_port(driver, alice):
    app = await driver.register_app(
        alice.id, redirect_uris=("http://127.0.0.1/callback",), client_type=ClientType.PUBLIC
    )
    origin = "http://127.0.0.1:5173"
    assert cors_headers(await preflight(driver.http, "/api/oauth/token", origin)) == {
        **TOKEN_PREFLIGHT,
        "access-control-allow-origin": origin,
    }
    response = await driver.http.post(
        "/api/oauth/revoke",
        data={"token": "anything", "client_id": app.client_id},
        headers={"origin": origin},
    )
    assert cors_headers(response) == {"access-control-allow-origin": origin}
    localhost = await preflight(driver.http, "/api/oauth/token", "http://localhost:5173")
    assert cors_headers(localhost) == {}


async def test_introspection_answers_no_cors_even_to_a_registered_origin(driver, spa):
    assert cors_headers(await preflight(driver.http, "/api/oauth/introspect", SPA)) == {}
    response = await driver.http.post(
        "/api/oauth/introspect",
        data={"token": "x", "client_id": spa.client_id},
        headers={"origin": SPA},
    )
    assert (response.status_code, cors_headers(response)) == (401, {})


async def test_metadata_is_readable_from_any_origin(http):
    response = await http.get("/.well-known/oauth-authorization-server", headers={"origin": EVIL})
    assert (response.status_code, cors_headers(response), response.headers["vary"]) == (
        200,
        {"access-control-allow-origin": EVIL},
        "Origin",
    )
    options = await preflight(http, "/.well-known/oauth-authorization-server", EVIL, "GET")
    assert (options.status_code, cors_headers(options)) == (
        204,
        {
            **TOKEN_PREFLIGHT,
            "access-control-allow-origin": EVIL,
            "access-control-allow-methods": "GET",
        },
    )


async def test_metadata_without_an_origin_still_says_it_varies_by_origin(http):
    response = await http.get("/.well-known/oauth-authorization-server")
    assert (cors_headers(response), response.headers["vary"]) == ({}, "Origin")


async def test_the_api_answers_any_origin_and_exposes_the_bearer_challenge(driver, spa):
    tokens = await driver.tokens(spa)
    me = await driver.http.get(
        "/api/v1/me",
        headers={"origin": EVIL, "authorization": f"Bearer {tokens['access_token']}"},
    )
    assert (me.status_code, cors_headers(me), me.headers["vary"]) == (
        200,
        {"access-control-allow-origin": EVIL, "access-control-expose-headers": "WWW-Authenticate"},
        "Origin",
    )
    refused = await driver.http.get("/api/v1/me", headers={"origin": EVIL})
    assert (refused.status_code, cors_headers(refused)) == (
        401,
        {"access-control-allow-origin": EVIL, "access-control-expose-headers": "WWW-Authenticate"},
    )
    options = await preflight(driver.http, "/api/v1/me", EVIL, "GET")
    assert (options.status_code, cors_headers(options)) == (
        204,
        {
            **TOKEN_PREFLIGHT,
            "access-control-allow-origin": EVIL,
            "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
        },
    )


async def test_app_management_under_api_v1_answers_no_cors(http, alice):
    listing = await http.get("/api/v1/oauth/apps", headers={"origin": EVIL})
    assert (listing.status_code, cors_headers(listing)) == (200, {})
    assert cors_headers(await preflight(http, "/api/v1/oauth/apps", EVIL)) == {}


@pytest.mark.parametrize("path", ["/", "/login", "/docs/oauth", "/api/oauth/authorize"])
async def test_pages_answer_no_cors_headers(http, spa, path):
    response = await http.get(path, headers={"origin": SPA})
    assert cors_headers(response) == {}
    assert cors_headers(await preflight(http, path, SPA, "GET")) == {}


async def test_no_response_ever_allows_credentials(driver, spa):
    responses = [
        await preflight(driver.http, "/api/oauth/token", SPA),
        await driver.http.post(
            "/api/oauth/revoke",
            data={"token": "x", "client_id": spa.client_id},
            headers={"origin": SPA},
        ),
        await driver.http.get("/.well-known/oauth-authorization-server", headers={"origin": SPA}),
        await driver.http.get("/api/v1/me", headers={"origin": SPA}),
        await preflight(driver.http, "/api/v1/me", SPA, "GET"),
    ]
    assert [r.headers.get("access-control-allow-credentials") for r in responses] == [None] * 5
    assert [r.headers["access-control-allow-origin"] for r in responses] == [SPA] * 5
