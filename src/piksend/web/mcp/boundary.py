"""The MCP endpoint's bearer check, MCP authorization (2025-11-25) §"Access Token Usage" and
§"Scope Challenge Handling", RFC 6750 §3, RFC 8707 §2, RFC 9728 §5.1: every request needs an
access token bound to the MCP resource; a 401 names the protected-resource metadata; a tool call
the token's scopes do not cover is a 403 ``insufficient_scope`` naming the scopes to ask for."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piksend.oauth import resources
from piksend.oauth.bearer import authenticate_bearer
from piksend.oauth.errors import BearerTokenError, ErrorCode
from piksend.oauth.scopes import canonical
from piksend.oauth.types import TokenRecord
from piksend.storage.oauth import SqlOAuthStore
from piksend.web.context import AppContext
from piksend.web.mcp.toolbox import TOKEN_KEY
from piksend.web.render import bearer_error_json

NOT_ALLOWED = JSONResponse(
    {"error": "method_not_allowed", "error_description": "The MCP endpoint takes POST only"},
    status_code=405,
    headers={"allow": "POST"},
)


def called_tools(body: bytes) -> list[str]:
    """The names of the tools a JSON-RPC body calls (a message or a batch); a body that is not
    JSON-RPC calls none here and gets the transport's own error."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    messages = parsed if isinstance(parsed, list) else [parsed]
    names = []
    for message in messages:
        if isinstance(message, dict) and message.get("method") == "tools/call":
            params = message.get("params")
            name = params.get("name") if isinstance(params, dict) else None
            if isinstance(name, str):
                names.append(name)
    return names


def step_up(
    token: TokenRecord, needed: Iterable[str], *, resource_metadata: str
) -> BearerTokenError | None:
    """insufficient_scope unless the token holds every scope ``needed``. Its ``scope`` is what
    the token holds plus what is missing (MCP authorization §"Scope Challenge Handling", the
    recommended approach), so a host that steps up loses no permission already granted."""
    missing = canonical(s for s in needed if s not in token.scope)
    if not missing:
        return None
    return BearerTokenError(
        ErrorCode.INSUFFICIENT_SCOPE,
        f"This tool needs the {' '.join(missing)} scope",
        status=403,
        scope=" ".join(canonical([*token.scope, *missing])),
        resource_metadata=resource_metadata,
    )


class McpBoundary:
    """ASGI wrapper of the SDK's transport: the token checked before any MCP message is read
    by the SDK, and left in the ASGI scope for the tools (``toolbox.TOKEN_KEY``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        context: AppContext,
        tool_scopes: Mapping[str, str],
    ) -> None:
        self.app = app
        self.context = context
        self.tool_scopes = tool_scopes
        self.resource = resources.mcp_resource(context.settings.issuer)
        self.resource_metadata = resources.metadata_url(self.resource)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            # MCP transports §"Listening for Messages from the Server": stateless, this endpoint
            # offers no event stream (GET) and has no session to end (DELETE).
            await NOT_ALLOWED(scope, receive, send)
            return
        try:
            token = await self.authenticate(Headers(scope=scope).get("authorization"))
        except BearerTokenError as error:  # carries the resource's metadata URL
            await bearer_error_json(error)(scope, receive, send)
            return
        body = await _read_body(receive)
        needed = [self.tool_scopes[n] for n in called_tools(body) if n in self.tool_scopes]
        refused = step_up(token, needed, resource_metadata=self.resource_metadata)
        if refused is not None:
            await bearer_error_json(refused)(scope, receive, send)
            return
        await self.app({**scope, TOKEN_KEY: token}, _replay(body, receive), send)

    async def authenticate(self, header: str | None) -> TokenRecord:
        async with self.context.db.reader() as session:
            return await authenticate_bearer(
                header,
                grants=SqlOAuthStore(session),
                now=self.context.now(),
                resource=self.resource,
            )


async def _read_body(receive: Receive) -> bytes:
    """The whole body (its size is bounded by ``BodyLimitMiddleware`` outside)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
            return message
        return await receive()

    return replayed
