from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from piksend.oauth.scopes import SCOPES
from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.receiver import Receiver

ALL_SCOPES = " ".join(SCOPES)
UPLOAD_LIMIT = 200_000


@pytest.fixture
def settings(settings):
    return settings.with_(max_upload_bytes=UPLOAD_LIMIT, webhook_max_attempts=3)


class Api:
    """An app calling the PikSend API with one access token."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token

    def _headers(self, kw) -> dict:
        return {**kw.pop("headers", {}), "authorization": f"Bearer {self.token}"}

    async def request(self, method: str, path: str, **kw) -> httpx.Response:
        return await self.http.request(method, path, headers=self._headers(kw), **kw)

    async def get(self, path, **kw):
        return await self.request("GET", path, **kw)

    async def post(self, path, **kw):
        return await self.request("POST", path, **kw)

    async def patch(self, path, **kw):
        return await self.request("PATCH", path, **kw)

    async def delete(self, path, **kw):
        return await self.request("DELETE", path, **kw)

    async def create_gallery(self, title="Holiday", **fields) -> dict:
        response = await self.post("/api/v1/galleries", json={"title": title, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    async def upload(self, gallery_id: str, data: bytes, name="photo.png", mime="image/png"):
        return await self.post(
            f"/api/v1/galleries/{gallery_id}/images", files={"file": (name, data, mime)}
        )


@dataclass
class World:
    driver: OAuthDriver
    app: RegisteredApp
    alice_id: str
    bob_id: str
    alice: Api
    bob: Api

    async def scoped(self, *scopes: str) -> Api:
        """A fresh token of Alice's holding exactly ``scopes``."""
        tokens = await self.driver.tokens(self.app, scopes=list(scopes))
        return Api(self.driver.http, tokens["access_token"])

    async def without(self, scope: str) -> Api:
        """A token of Alice's holding every scope but ``scope``."""
        return await self.scoped(*(s for s in SCOPES if s != scope))


@pytest.fixture
async def world(driver, http, app) -> World:
    alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
    registered = await driver.register_app(alice.id, scopes=ALL_SCOPES, name="Gallery App")
    alice_api = Api(http, (await driver.tokens(registered))["access_token"])
    # Bob signs in through a browser of his own (a separate cookie jar).
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=str(http.base_url)) as other:
        bob_driver = OAuthDriver(other, app)
        bob = await bob_driver.sign_up("bob@example.com", "battery staple", "Bob")
        bob_token = (await bob_driver.tokens(registered))["access_token"]
    return World(driver, registered, alice.id, bob.id, alice_api, Api(http, bob_token))


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def worker(app):
    return app.state.webhook_worker
