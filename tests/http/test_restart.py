"""Nothing lives in process memory: a new app on the same database honours issued tokens."""

from __future__ import annotations

import httpx

from piksend.app import create_app
from tests.conftest import ISSUER


async def test_tokens_survive_a_restart(driver, registered, settings, clock):
    tokens = await driver.tokens(registered)
    restarted = create_app(settings, clock=clock)
    try:
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            me = await http.get(
                "/api/v1/me", headers={"authorization": f"Bearer {tokens['access_token']}"}
            )
            assert me.status_code == 200
            refreshed = await http.post(
                "/api/oauth/token",
                json={
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                    "client_id": registered.client_id,
                    "client_secret": registered.client_secret,
                },
            )
            assert refreshed.status_code == 200
    finally:
        await restarted.state.ctx.db.dispose()
