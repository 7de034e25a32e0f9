"""/docs/oauth's "Connect an AI assistant" section (issue 13, item 6): the URL to paste, what the
user will see, the tools with their scopes, and that tokens are bound to the MCP endpoint."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import ISSUER
from tests.mcp.test_challenges import TOOL_SCOPES


@pytest.fixture
async def section(http) -> str:
    page = (await http.get("/docs/oauth")).text
    match = re.search(r'<section id="ai-assistants">(.*?)</section>', page, re.S)
    assert match, "no #ai-assistants section"
    return match.group(1)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


async def test_the_guide_lists_the_assistant_section_in_its_contents(http):
    page = (await http.get("/docs/oauth")).text

    assert '<a href="#ai-assistants">Connect an AI assistant (MCP)</a>' in page


async def test_the_url_to_paste_is_this_servers_mcp_endpoint(section):
    assert f'<code id="mcp-url">{ISSUER}/mcp</code>' in section


async def test_the_section_says_what_the_user_will_see_on_the_consent_screen(section):
    steps = text(re.search(r'id="ai-assistants-what-you-see">.*?<ol>(.*?)</ol>', section, re.S)[1])

    assert "Registered by the app itself; PikSend has not reviewed it" in steps
    assert "through PikSend for AI assistants (MCP)" in steps
    assert "Connected apps" in steps


async def test_the_tools_table_names_each_tool_with_the_scope_the_server_requires(section, app):
    rows = re.findall(
        r"<tr><td><code>(\w+)</code></td><td>.*?</td><td><code>([\w:]+)</code></td></tr>", section
    )

    assert dict(rows) == TOOL_SCOPES == app.state.mcp.tool_scopes


async def test_the_section_says_tokens_are_bound_to_the_mcp_endpoint(section):
    said = text(section)

    assert f"a token issued for {ISSUER}/mcp works only there, and is refused by /api/v1" in said
    assert f"resource={ISSUER}/mcp (RFC 8707)" in said
    assert (
        f'resource_metadata="{ISSUER}/.well-known/oauth-protected-resource/mcp" (RFC 9728)' in said
    )
