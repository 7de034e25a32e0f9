"""The MCP SDK's own client against a live ``piksend serve``, given only ``<base>/mcp`` (MCP
authorization 2025-11-25): the 401 leads it to the protected-resource metadata (RFC 9728), the
authorization server's metadata (RFC 8414), dynamic registration (RFC 7591) or a client ID
metadata document, then the code flow with PKCE S256, ``resource`` (RFC 8707) and ``iss``
(RFC 9207) through the real sign-in and consent pages; it initializes, lists and calls tools,
refreshes, and calls again. Each test's whole session is written to ``mcp-session.txt`` in its
temporary directory, every credential elided."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piksend.oauth.scopes import SCOPES
from tests.support.mcp_client import SdkClient, live_mcp_server, sdk_client
from tests.support.public_client import BACKENDS, create_user, static_site

pytestmark = pytest.mark.live

EMAIL = "sam@example.com"
TOOLS = [
    "list_galleries",
    "get_gallery",
    "create_gallery",
    "update_gallery",
    "delete_gallery",
    "list_images",
    "get_image",
    "upload_image",
    "get_stats",
    "list_webhooks",
]


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("mcp")
    env = {"PIKSEND_DYNAMIC_REGISTRATION": "open", "PIKSEND_WEBHOOKS_ALLOW_PRIVATE": "1"}
    with live_mcp_server(request.param, data_dir, **env) as live:
        create_user(live, EMAIL)
        yield live


def keep(client: SdkClient, tmp_path: Path) -> None:
    (tmp_path / "mcp-session.txt").write_text(client.transcript.render() + "\n")


def discovery_and_sign_in(registration: list[tuple[str, str, str, int]]):
    """What every first connection does before its first MCP answer: the refused request, the
    two metadata documents, becoming a client, the user's browser, the code exchange."""
    return [
        ("sdk", "POST", "/mcp", 401),
        ("sdk", "GET", "/.well-known/oauth-protected-resource/mcp", 200),
        ("sdk", "GET", "/.well-known/oauth-authorization-server", 200),
        *registration,
        ("browser", "GET", "/api/oauth/authorize", 302),
        ("browser", "GET", "/login", 200),
        ("browser", "POST", "/login", 303),
        ("browser", "GET", "/api/oauth/authorize", 200),
        ("browser", "POST", "/api/oauth/consent", 303),
        ("sdk", "POST", "/api/oauth/token", 200),
    ]


@pytest.mark.parametrize("auth_method", ["none", "client_secret_basic"])
async def test_the_sdk_registers_itself_authorizes_calls_a_tool_refreshes_and_calls_again(
    server, auth_method, tmp_path
):
    mcp_url = f"{server.url}/mcp"
    client = sdk_client(mcp_url, email=EMAIL, auth_method=auth_method)

    async with client.session(mcp_url) as session:
        listed = await session.list_tools()
        created = await session.call_tool("create_gallery", {"title": f"By {auth_method}"})
        before = client.storage.tokens
        client.expire_access_token()
        got = await session.call_tool(
            "get_gallery", {"gallery_id": created.structured_content["id"]}
        )
        after = client.storage.tokens
    keep(client, tmp_path)

    assert [t.name for t in listed.tools] == TOOLS
    assert created.is_error is False
    assert got.structured_content == created.structured_content
    assert created.structured_content["title"] == f"By {auth_method}"
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert after.scope == " ".join(SCOPES)
    consent = client.browser.pages[0]
    assert "Registered by the app itself; PikSend has not reviewed it." in consent
    assert "PikSend for AI assistants (MCP)" in consent
    registered = client.storage.client_info
    assert registered.token_endpoint_auth_method == auth_method
    assert (registered.client_secret is None) == (auth_method == "none")
    assert client.transcript.summary() == [
        *discovery_and_sign_in([("sdk", "POST", "/api/oauth/register", 201)]),
        ("sdk", "POST", "/mcp", 200),  # initialize
        ("sdk", "POST", "/mcp", 202),  # notifications/initialized
        ("sdk", "POST", "/mcp", 200),  # tools/list
        ("sdk", "POST", "/mcp", 200),  # tools/call create_gallery
        ("sdk", "POST", "/api/oauth/token", 200),  # the refresh
        ("sdk", "POST", "/mcp", 200),  # tools/call get_gallery with the new token
    ]
    assert client.transcript.mcp_methods() == [
        ("initialize", 401),
        ("initialize", 200),
        ("notifications/initialized", 202),
        ("tools/list", 200),
        ("tools/call", 200),
        ("tools/call", 200),
    ]
    token_requests = [e for e in client.transcript.exchanges if e.path == "/api/oauth/token"]
    assert [e.request["grant_type"] for e in token_requests] == [
        "authorization_code",
        "refresh_token",
    ]
    assert {e.request["resource"] for e in token_requests} == {mcp_url}
    authorize = next(e for e in client.transcript.exchanges if e.path == "/api/oauth/authorize")
    assert "resource=" in authorize.url and "code_challenge_method=S256" in authorize.url


async def test_the_sdk_uses_a_client_id_metadata_document_served_from_a_loopback_origin(
    server, tmp_path
):
    site = tmp_path / "site"
    site.mkdir()
    mcp_url = f"{server.url}/mcp"
    with static_site(site, host="127.0.0.1") as origin:
        document_url = f"{origin}/assistant.json"
        client = sdk_client(mcp_url, email=EMAIL, client_metadata_url=document_url)
        redirect = str(client.provider.context.client_metadata.redirect_uris[0])
        (site / "assistant.json").write_text(
            json.dumps(
                {
                    "client_id": document_url,
                    "client_name": "Loopback Assistant",
                    "redirect_uris": [redirect],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "none",
                }
            )
        )
        async with client.session(mcp_url) as session:
            created = await session.call_tool("create_gallery", {"title": "Via a document"})
            client.expire_access_token()
            listed = await session.call_tool("list_galleries", {})
    keep(client, tmp_path)

    assert client.storage.client_info.client_id == document_url
    assert created.structured_content in listed.structured_content["data"]
    assert "Loopback Assistant" in client.browser.pages[0]
    assert client.transcript.summary() == [
        *discovery_and_sign_in([]),  # no registration: the document's URL is the client_id
        ("sdk", "POST", "/mcp", 200),
        ("sdk", "POST", "/mcp", 202),
        ("sdk", "POST", "/mcp", 200),
        ("sdk", "POST", "/mcp", 200),
        ("sdk", "POST", "/api/oauth/token", 200),
        ("sdk", "POST", "/mcp", 200),
    ]
    # The SDK lists the tools after its first call, to check the result against its schema.
    assert client.transcript.mcp_methods() == [
        ("initialize", 401),
        ("initialize", 200),
        ("notifications/initialized", 202),
        ("tools/call", 200),
        ("tools/list", 200),
        ("tools/call", 200),
    ]


async def test_the_sdk_steps_up_when_a_tool_needs_a_scope_the_user_left_out(server, tmp_path):
    mcp_url = f"{server.url}/mcp"
    client = sdk_client(mcp_url, email=EMAIL, scopes=["galleries:read", "galleries:write"])

    async with client.session(mcp_url) as session:
        first = client.storage.tokens
        client.browser.scopes = None  # the second time, the user approves what is asked
        stats = await session.call_tool("get_stats", {})
    keep(client, tmp_path)

    assert first.scope == "galleries:read galleries:write"
    assert stats.is_error is False
    refused = [e for e in client.transcript.exchanges if e.status == 403]
    assert [e.headers["www-authenticate"] for e in refused] == [
        'Bearer realm="piksend", error="insufficient_scope",'
        ' error_description="This tool needs the stats:read scope",'
        ' scope="galleries:read galleries:write stats:read",'
        f' resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"'
    ]
    assert "stats:read" in client.storage.tokens.scope.split()
