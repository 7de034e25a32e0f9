"""The PikSend MCP server at ``/mcp`` (MCP 2025-11-25, Streamable HTTP transport): the official
SDK's server in stateless mode with JSON responses, so any worker or node answers any request and
nothing lives in process memory between requests; behind the MCP resource's bearer check."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import ASGIApp

from piksend import __version__
from piksend.oauth import resources
from piksend.web.context import AppContext
from piksend.web.mcp import account_tools, gallery_tools, image_tools
from piksend.web.mcp.boundary import McpBoundary
from piksend.web.mcp.toolbox import Toolbox

MCP_PATH = resources.MCP_PATH
INSTRUCTIONS = (
    "PikSend photo galleries of the signed-in user: list, create, change and delete galleries, "
    "list and upload images, read view and download stats, list this app's webhooks. "
    "Each tool needs the OAuth scope it names; a missing one is answered 403 insufficient_scope."
)


@dataclass(frozen=True)
class McpEndpoint:
    """What ``create_app`` mounts at ``MCP_PATH`` and runs in its lifespan."""

    asgi: ASGIApp
    manager: StreamableHTTPSessionManager
    tool_scopes: dict[str, str]

    @property
    def route(self) -> Route:
        """Every method at exactly ``MCP_PATH`` (no redirect to a trailing slash)."""
        return Route(MCP_PATH, endpoint=self.asgi, include_in_schema=False)

    def run(self) -> AbstractAsyncContextManager[None]:
        """The transport's task group, for the app's lifespan (each request runs in it)."""
        return self.manager.run()


@contextmanager
def _root_logging_kept() -> Iterator[None]:
    """The SDK's server calls ``logging.basicConfig`` when built; piksend's logging is the
    server's (``piksend.logs``), so the root logger is left as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def build_mcp(context: AppContext) -> McpEndpoint:
    settings = context.settings
    with _root_logging_kept():
        server: MCPServer[Any] = MCPServer(
            "piksend", title="PikSend", version=__version__, instructions=INSTRUCTIONS
        )
    box = Toolbox(server, context)
    for tools in (gallery_tools, image_tools, account_tools):
        tools.register(box)
    host = urlsplit(settings.issuer).netloc
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=True,
        stateless_http=True,
        # A base64 upload is 4/3 of the image, plus the JSON-RPC envelope.
        max_request_body_size=(settings.max_upload_bytes + 64 * 1024) * 4 // 3,
        # DNS rebinding (MCP transports §"Security Warning"): only this server's own host.
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=[host],
            allowed_origins=[settings.issuer],
        ),
    )
    manager = server.session_manager
    asgi = McpBoundary(
        StreamableHTTPASGIApp(manager),
        context=context,
        tool_scopes=box.scopes,
    )
    return McpEndpoint(asgi=asgi, manager=manager, tool_scopes=box.scopes)
