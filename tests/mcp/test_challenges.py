"""The MCP endpoint's bearer check through the ASGI app (MCP authorization 2025-11-25; RFC 6750
§3; RFC 8707 §2; RFC 9728 §5.1): the 401 that starts discovery, tokens for another resource, and
the 403 insufficient_scope a host steps up from."""

from __future__ import annotations

import pytest

from piksend.oauth.scopes import SCOPES
from tests.conftest import ISSUER
from tests.support.mcp_client import McpHttp

METADATA = f"{ISSUER}/.well-known/oauth-protected-resource/mcp"
TOOL_SCOPES = {
    "list_galleries": "galleries:read",
    "get_gallery": "galleries:read",
    "create_gallery": "galleries:write",
    "update_gallery": "galleries:write",
    "delete_gallery": "galleries:write",
    "list_images": "images:read",
    "get_image": "images:read",
    "upload_image": "images:write",
    "get_stats": "stats:read",
    "list_webhooks": "webhooks:read",
}


def tool_call(name: str, request_id: int = 1) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": {}},
    }


async def test_a_request_without_a_token_gets_401_naming_the_protected_resource_metadata(world):
    answer = await McpHttp(world.http, None).request("tools/list")

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == (
        f'Bearer realm="piksend", resource_metadata="{METADATA}"'
    )
    assert answer.json() == {
        "error": "unauthorized",
        "error_description": "An access token is required",
    }


async def test_an_unknown_token_gets_401_invalid_token_with_the_metadata(world):
    answer = await McpHttp(world.http, "pks_at_not-a-real-token").request("tools/list")

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="invalid_token",'
        ' error_description="The access token is invalid",'
        f' resource_metadata="{METADATA}"'
    )


async def test_a_token_for_the_api_is_refused_at_the_mcp_endpoint(world):
    api_token = (await world.driver.tokens(world.registered))["access_token"]

    answer = await McpHttp(world.http, api_token).request("tools/list")

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="invalid_token",'
        ' error_description="The access token is not for this resource",'
        f' resource_metadata="{METADATA}"'
    )
    assert answer.json() == {
        "error": "invalid_token",
        "error_description": "The access token is not for this resource",
    }


async def test_a_token_for_the_mcp_endpoint_is_refused_at_the_api(world):
    mcp = await world.everything()

    answer = await world.http.get(
        "/api/v1/galleries", headers={"authorization": f"Bearer {mcp.token}"}
    )

    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_token",
        "error_description": "The access token is not for this resource",
    }
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert answer.headers["www-authenticate"].endswith(
        f'resource_metadata="{ISSUER}/.well-known/oauth-protected-resource/api/v1"'
    )


async def test_a_tool_call_without_its_scope_is_403_naming_the_scopes_to_step_up_to(world):
    mcp = await world.mcp("profile:read", "galleries:read")

    answer = await mcp.post(tool_call("upload_image"))

    assert answer.status_code == 403
    assert answer.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="insufficient_scope",'
        ' error_description="This tool needs the images:write scope",'
        ' scope="profile:read galleries:read images:write",'
        f' resource_metadata="{METADATA}"'
    )
    assert answer.json() == {
        "error": "insufficient_scope",
        "error_description": "This tool needs the images:write scope",
    }


def test_every_tool_is_declared_with_a_scope(app):
    assert app.state.mcp.tool_scopes == TOOL_SCOPES


@pytest.mark.parametrize("tool", sorted(TOOL_SCOPES))
async def test_each_tool_is_refused_to_a_token_with_every_other_scope(world, tool):
    needed = TOOL_SCOPES[tool]
    mcp = await world.mcp(*(s for s in SCOPES if s != needed))

    answer = await mcp.post(tool_call(tool))

    assert answer.status_code == 403
    assert answer.json() == {
        "error": "insufficient_scope",
        "error_description": f"This tool needs the {needed} scope",
    }
    assert f'scope="{" ".join(SCOPES)}"' in answer.headers["www-authenticate"]


async def test_each_tool_needs_exactly_the_scope_of_its_api_endpoint(http):
    paths = (await http.get("/api/openapi.json")).json()["paths"]
    endpoints = {
        "list_galleries": ("/api/v1/galleries", "get"),
        "get_gallery": ("/api/v1/galleries/{gallery_id}", "get"),
        "create_gallery": ("/api/v1/galleries", "post"),
        "update_gallery": ("/api/v1/galleries/{gallery_id}", "patch"),
        "delete_gallery": ("/api/v1/galleries/{gallery_id}", "delete"),
        "list_images": ("/api/v1/galleries/{gallery_id}/images", "get"),
        "get_image": ("/api/v1/images/{image_id}", "get"),
        "upload_image": ("/api/v1/galleries/{gallery_id}/images", "post"),
        "get_stats": ("/api/v1/stats", "get"),
        "list_webhooks": ("/api/v1/webhooks", "get"),
    }

    documented = {
        tool: paths[path][method]["security"] for tool, (path, method) in endpoints.items()
    }

    assert documented == {tool: [{"piksend_oauth": [s]}] for tool, s in TOOL_SCOPES.items()}


async def test_listing_the_tools_needs_a_token_for_the_endpoint_but_no_particular_scope(world):
    mcp = await world.mcp("profile:read")

    listed = await mcp.result("tools/list")

    assert [t["name"] for t in listed["tools"]] == list(TOOL_SCOPES)


async def test_a_batch_with_one_tool_call_lacking_its_scope_is_refused_whole(world):
    mcp = await world.mcp("galleries:read")

    answer = await mcp.post([tool_call("list_galleries", 1), tool_call("get_stats", 2)])

    assert answer.status_code == 403
    assert answer.json()["error_description"] == "This tool needs the stats:read scope"


async def test_a_tool_call_with_its_scope_passes_the_boundary(world):
    mcp = await world.mcp("galleries:read")

    assert await mcp.structured("list_galleries") == {"data": [], "next_cursor": None}


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
async def test_the_stateless_endpoint_answers_other_methods_405_allowing_post(world, method):
    mcp = await world.everything()

    answer = await world.http.request(
        method,
        "/mcp",
        headers={"authorization": f"Bearer {mcp.token}", "accept": "text/event-stream"},
    )

    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.json() == {
        "error": "method_not_allowed",
        "error_description": "The MCP endpoint takes POST only",
    }


async def test_a_request_naming_another_host_is_refused_against_dns_rebinding(world):
    mcp = await world.everything()

    answer = await mcp.post(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, host="attacker.example"
    )

    assert (answer.status_code, answer.text) == (421, "Invalid Host header")
