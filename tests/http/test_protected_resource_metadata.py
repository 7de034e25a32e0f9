"""Protected resource metadata (RFC 9728 §2–3, §5.1): each resource's document, found through
the ``resource_metadata`` of its 401 challenge, names piksend as its authorization server."""

from __future__ import annotations

import pytest

from tests.conftest import ISSUER

SCOPES = [
    "profile:read",
    "galleries:read",
    "galleries:write",
    "images:read",
    "images:write",
    "stats:read",
    "webhooks:read",
    "webhooks:write",
]
API_METADATA = ISSUER + "/.well-known/oauth-protected-resource/api/v1"


@pytest.mark.parametrize(
    ("path", "resource", "name"),
    [
        ("/api/v1", ISSUER + "/api/v1", "PikSend API"),
        ("/mcp", ISSUER + "/mcp", "PikSend for AI assistants (MCP)"),
    ],
)
async def test_each_resource_serves_its_metadata_document(http, path, resource, name):
    response = await http.get("/.well-known/oauth-protected-resource" + path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "resource": resource,
        "authorization_servers": [ISSUER],
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
        "resource_name": name,
        "resource_documentation": ISSUER + "/docs/oauth",
    }


@pytest.mark.parametrize("path", ["/api/v1", "/mcp"])
async def test_a_metadata_document_is_readable_from_any_origin(http, path):
    response = await http.get(
        "/.well-known/oauth-protected-resource" + path,
        headers={"origin": "https://assistant.example"},
    )
    assert response.headers["access-control-allow-origin"] == "https://assistant.example"
    assert "access-control-allow-credentials" not in response.headers


async def test_an_unknown_resource_has_no_metadata_document(http):
    response = await http.get("/.well-known/oauth-protected-resource/api/v2")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/api/v1/me", "profile:read"),
        ("/api/v1/galleries", "galleries:read"),
        ("/api/v1/stats", "stats:read"),
    ],
)
async def test_a_request_without_a_token_is_told_the_scope_and_where_the_metadata_is(
    http, path, scope
):
    response = await http.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="piksend", scope="{scope}", resource_metadata="{API_METADATA}"'
    )


async def test_an_invalid_token_is_told_the_scope_and_where_the_metadata_is(http):
    response = await http.get("/api/v1/galleries", headers={"authorization": "Bearer pks_at_x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="invalid_token", '
        'error_description="The access token is invalid", scope="galleries:read", '
        f'resource_metadata="{API_METADATA}"'
    )


async def test_the_challenge_leads_to_the_document_of_the_resource_that_answered(http):
    challenge = (await http.get("/api/v1/me")).headers["www-authenticate"]
    url = challenge.split('resource_metadata="')[1].rstrip('"')
    document = (await http.get(url.removeprefix(ISSUER))).json()
    assert (document["resource"], document["authorization_servers"]) == (
        ISSUER + "/api/v1",
        [ISSUER],
    )


async def test_insufficient_scope_names_the_missing_scope_and_the_metadata(driver, registered):
    tokens = await driver.tokens(registered, scopes=["galleries:read"])
    response = await driver.me(tokens["access_token"])
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="insufficient_scope", '
        'error_description="This request needs the profile:read scope", scope="profile:read", '
        f'resource_metadata="{API_METADATA}"'
    )
