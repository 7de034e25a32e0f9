"""The MCP tools' common ground: each tool declares its scope once (enforced at the HTTP boundary,
MCP authorization §"Scope Challenge Handling", and again here), runs in one unit of work as the
token's user, and reports a domain error as a tool error the model can read and correct."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.errors import DomainError
from piksend.oauth.errors import BearerTokenError
from piksend.oauth.types import TokenRecord
from piksend.web.context import AppContext

Fn = TypeVar("Fn", bound=Callable[..., Any])

# The ASGI scope key under which the MCP boundary leaves the checked access token.
TOKEN_KEY = "piksend.mcp.token"


@dataclass(frozen=True)
class ToolCall:
    """One tool call: its unit of work and the access token it was made with."""

    session: AsyncSession
    token: TokenRecord

    @property
    def user_id(self) -> str:
        return self.token.user_id


@dataclass
class Toolbox:
    """Registers tools on ``server`` and remembers each one's scope for the boundary."""

    server: MCPServer[Any]
    context: AppContext
    scopes: dict[str, str] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return self.context.settings.public_url

    def tool(
        self,
        scope: str,
        *,
        title: str,
        read_only: bool,
        destructive: bool = False,
        open_world: bool = False,
    ) -> Callable[[Fn], Fn]:
        """Register ``fn`` as the tool of its name, needing ``scope``; its docstring describes it."""

        def decorate(fn: Fn) -> Fn:
            self.scopes[fn.__name__] = scope
            self.server.add_tool(
                fn,
                name=fn.__name__,
                title=title,
                description=fn.__doc__,
                annotations=ToolAnnotations(
                    title=title,
                    read_only_hint=read_only,
                    destructive_hint=destructive,
                    idempotent_hint=read_only,
                    open_world_hint=open_world,
                ),
                structured_output=True,
            )
            return fn

        return decorate

    @asynccontextmanager
    async def call(self, ctx: Context[Any], name: str) -> AsyncIterator[ToolCall]:
        """The tool ``name``'s call as the token's user, in one unit of work."""
        request = ctx.request_context.request
        token = getattr(request, "scope", {}).get(TOKEN_KEY)
        if not isinstance(token, TokenRecord):
            raise ToolError("This tool needs an access token for the PikSend MCP endpoint")
        scope = self.scopes[name]
        if scope not in token.scope:
            raise ToolError(BearerTokenError.insufficient_scope(scope).description)
        async with self.context.db.unit_of_work() as session:
            try:
                yield ToolCall(session=session, token=token)
            except DomainError as error:
                raise ToolError(str(error)) from error
