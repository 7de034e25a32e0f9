"""The MCP endpoint through the ASGI app on both databases: the app's MCP transport running (as
its lifespan runs it), Alice's app and tokens holding exactly the scopes a test names."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from piksend.oauth.scopes import SCOPES
from tests.conftest import ISSUER
from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.mcp_client import McpHttp

ALL_SCOPES = " ".join(SCOPES)
MCP_RESOURCE = f"{ISSUER}/mcp"
UPLOAD_LIMIT = 200_000


@pytest.fixture
def settings(settings):
    return settings.with_(max_upload_bytes=UPLOAD_LIMIT)


@pytest.fixture
async def app(app):
    """The app with its MCP transport running, entered and left in one task of its own (an
    async fixture's setup and teardown may run in different tasks)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.state.mcp.run():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    await asyncio.wait_for(started.wait(), timeout=10)
    yield app
    stop.set()
    await asyncio.wait_for(task, timeout=10)


@dataclass
class World:
    driver: OAuthDriver
    registered: RegisteredApp
    http: httpx.AsyncClient

    async def mcp(self, *scopes: str) -> McpHttp:
        """An MCP client with a fresh token of Alice's holding exactly ``scopes``."""
        tokens = await self.driver.tokens(
            self.registered, scopes=list(scopes), resource=MCP_RESOURCE
        )
        return McpHttp(self.http, tokens["access_token"])

    async def everything(self) -> McpHttp:
        return await self.mcp(*SCOPES)

    async def bob(self) -> McpHttp:
        """An MCP client of Bob's, who signs in through a browser of his own, for the same app."""
        app = self.driver.app
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as browser:
            bobs = OAuthDriver(browser, app)
            await bobs.sign_up("bob@example.com", "battery staple", "Bob")
            tokens = await bobs.tokens(self.registered, resource=MCP_RESOURCE)
        return McpHttp(self.http, tokens["access_token"])


@pytest.fixture
async def world(driver, http) -> World:
    alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
    registered = await driver.register_app(alice.id, scopes=ALL_SCOPES, name="Assistant")
    return World(driver, registered, http)
