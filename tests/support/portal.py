"""Portal: the developer pages and connected apps, driven through HTTP the way a browser would."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import httpx

from tests.support.driver import csrf_of

NONCE = re.compile(r'name="nonce" value="([^"]+)"')
SECRET = re.compile(r'id="client-secret"[^>]*>([^<]+)<')
CLIENT_ID = re.compile(r'id="client-id"[^>]*>([^<]+)<')


def nonce_of(page: str) -> str:
    match = NONCE.search(page)
    assert match, "page has no nonce"
    return match.group(1)


def secret_of(page: str) -> str:
    match = SECRET.search(page)
    assert match, "page shows no client secret"
    return html.unescape(match.group(1))


def client_id_of(page: str) -> str:
    match = CLIENT_ID.search(page)
    assert match, "page shows no client id"
    return html.unescape(match.group(1))


def app_form(
    *,
    name="My App",
    description="",
    logo_url="",
    website_url="",
    redirect_uris=("https://app.example.com/callback",),
    scopes=("profile:read", "galleries:read"),
    **extra: str,
) -> list[tuple[str, str]]:
    data = [
        ("name", name),
        ("description", description),
        ("logo_url", logo_url),
        ("website_url", website_url),
    ]
    data += [("redirect_uri", u) for u in redirect_uris]
    data += [("scope", s) for s in scopes]
    data += list(extra.items())
    return data


class Portal:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, url: str, data: list[tuple[str, str]], page: str) -> httpx.Response:
        body = [("csrf_token", csrf_of(page)), *data]
        return await self.http.post(
            url,
            content=urlencode(body),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    async def new_form(self) -> httpx.Response:
        response = await self.http.get("/settings/oauth/new")
        assert response.status_code == 200, response.text[:300]
        return response

    async def submit_new(self, **fields) -> httpx.Response:
        form = await self.new_form()
        data = [("nonce", nonce_of(form.text)), *app_form(**fields)]
        return await self.post("/settings/oauth/new", data, form.text)

    async def follow(self, response: httpx.Response) -> httpx.Response:
        """The page a 303 leads to, as a browser loads it (with the cookies it was handed)."""
        assert response.status_code == 303, response.text[:500]
        return await self.http.get(response.headers["location"])

    async def create(self, **fields) -> tuple[str, str]:
        """Create an app through the form; returns (client_id, client_secret) from the page
        its POST redirects to."""
        shown = await self.follow(await self.submit_new(**fields))
        assert shown.status_code == 200, shown.text[:500]
        return client_id_of(shown.text), secret_of(shown.text)

    async def app_page(self, client_id: str) -> httpx.Response:
        response = await self.http.get(f"/settings/oauth/{client_id}")
        assert response.status_code == 200, response.text[:300]
        return response

    async def rotate_post(
        self, client_id: str, grace_seconds: int, *, confirm: str | None = None
    ) -> httpx.Response:
        """The rotate form's POST itself, as the app page sends it."""
        page = await self.app_page(client_id)
        data = [("nonce", nonce_of(page.text)), ("grace_seconds", str(grace_seconds))]
        if confirm is not None:
            data.append(("confirm", confirm))
        return await self.post(f"/settings/oauth/{client_id}/rotate", data, page.text)

    async def rotate(self, client_id: str, grace_seconds: int = 0) -> httpx.Response:
        """Rotate (confirming an immediate rotation, as its dialog or page does) and return the
        page showing the new secret."""
        confirm = "immediate" if grace_seconds == 0 else None
        response = await self.rotate_post(client_id, grace_seconds, confirm=confirm)
        if response.status_code != 303:
            return response
        return await self.follow(response)

    async def revoke(self, client_id: str) -> httpx.Response:
        """Revoke a connected app's access from its confirmation page."""
        page = await self.http.get(f"/settings/connected-apps/{client_id}/revoke")
        assert page.status_code == 200, page.text[:300]
        data = [("confirm", "revoke")]
        return await self.post(f"/settings/connected-apps/{client_id}/revoke", data, page.text)
