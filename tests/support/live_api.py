"""An access token for a live server, got the way a real app gets one: sign in, approve, exchange."""

from __future__ import annotations

import httpx

from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.live import LiveServer

REDIRECT_URI = "https://app.example.com/callback"


async def live_token(
    server: LiveServer, scopes: str, *, email="owner@example.com", password="correct horse"
) -> str:
    server.cli("users", "create", "--email", email, "--password", password, "--name", "Owner")
    created = server.cli(
        "apps", "create", "--owner", email, "--name", "Live App",
        "--redirect-uri", REDIRECT_URI, "--scopes", scopes,
    )  # fmt: skip
    registered = RegisteredApp(created["client_id"], created["client_secret"], REDIRECT_URI, scopes)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        driver = OAuthDriver(http, app=None)
        signed_in = await driver.sign_in(email, password)
        assert signed_in.status_code == 303, signed_in.text
        return (await driver.tokens(registered))["access_token"]
