"""OAuthDriver: walks the real HTTP surface (forms, redirects) the way a browser and an app do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from piksend.clients.registry import create_app
from piksend.clients.validation import AppFields
from piksend.oauth.types import ClientType
from tests.support.pkce import pkce_pair

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PENDING = re.compile(r'name="pending_id" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@dataclass
class RegisteredApp:
    client_id: str
    client_secret: str | None  # None for a public app
    redirect_uri: str
    scopes: str


@dataclass
class Authorization:
    code: str
    verifier: str
    state: str
    redirect_uri: str
    location: str


class OAuthDriver:
    def __init__(self, http: httpx.AsyncClient, app) -> None:
        self.http = http
        self.app = app

    @property
    def ctx(self):
        return self.app.state.ctx

    async def sign_up(self, email="alice@example.com", password="correct horse", name="Alice"):
        page = await self.http.get("/signup")
        response = await self.http.post(
            "/signup",
            data={
                "csrf_token": csrf_of(page.text),
                "name": name,
                "email": email,
                "password": password,
            },
        )
        # Sign-up answers "check your inbox" without a session (issue 14): then sign in.
        assert response.status_code == 200, response.text
        signed_in = await self.sign_in(email, password)
        assert signed_in.status_code == 303, signed_in.text
        async with self.ctx.db.unit_of_work() as s:
            from piksend.accounts.service import get_user_by_email

            return await get_user_by_email(s, email)

    async def sign_in(self, email, password):
        page = await self.http.get("/login")
        return await self.http.post(
            "/login", data={"csrf_token": csrf_of(page.text), "email": email, "password": password}
        )

    async def sign_out(self):
        page = await self.http.get("/")
        await self.http.post("/logout", data={"csrf_token": csrf_of(page.text)})

    async def register_app(
        self,
        owner_id: str,
        *,
        redirect_uris=("https://app.example.com/callback",),
        scopes="profile:read galleries:read galleries:write",
        name="Example App",
        client_type=ClientType.CONFIDENTIAL,
        **extra,
    ) -> RegisteredApp:
        async with self.ctx.db.unit_of_work() as s:
            registered, secret = await create_app(
                s,
                owner_id=owner_id,
                fields=AppFields(
                    name=name,
                    redirect_uris=tuple(redirect_uris),
                    scopes=tuple(scopes.split()),
                    **extra,
                ),
                now=self.ctx.now(),
                client_type=client_type,
            )
        return RegisteredApp(registered.client_id, secret, redirect_uris[0], scopes)

    def authorize_params(self, app: RegisteredApp, **overrides) -> dict[str, str]:
        params = {
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "response_type": "code",
            "scope": app.scopes,
            "state": "state-123",
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    async def authorize(self, app: RegisteredApp, *, challenge: str, **overrides) -> httpx.Response:
        params = self.authorize_params(app, code_challenge=challenge, **overrides)
        return await self.http.get("/api/oauth/authorize?" + urlencode(params))

    async def decide(self, consent_page: httpx.Response, decision="approve", scopes=None):
        html = consent_page.text
        pending = PENDING.search(html)
        assert pending, f"not a consent page: {consent_page.status_code} {html[:300]}"
        requested = re.findall(r'name="scope" value="([^"]+)"', html)
        chosen = requested if scopes is None else scopes
        data = [
            ("csrf_token", csrf_of(html)),
            ("pending_id", pending.group(1)),
            ("decision", decision),
        ]
        data += [("scope", s) for s in chosen]
        return await self.http.post(
            "/api/oauth/consent",
            content=urlencode(data),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    async def authorize_and_approve(
        self, app: RegisteredApp, *, scopes=None, state="state-123", **overrides
    ) -> Authorization:
        verifier, challenge = pkce_pair()
        page = await self.authorize(app, challenge=challenge, state=state, **overrides)
        assert page.status_code == 200, page.text[:500]
        decided = await self.decide(page, "approve", scopes)
        assert decided.status_code == 303, decided.text[:500]
        location = decided.headers["location"]
        query = parse_qs(urlsplit(location).query)
        return Authorization(
            code=query["code"][0],
            verifier=verifier,
            state=query.get("state", [None])[0],
            redirect_uri=overrides.get("redirect_uri", app.redirect_uri),
            location=location,
        )

    async def exchange(self, app: RegisteredApp, auth: Authorization, *, form=False, **overrides):
        body = {
            "grant_type": "authorization_code",
            "code": auth.code,
            "redirect_uri": auth.redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "code_verifier": auth.verifier,
        }
        body.update(overrides)
        body = {k: v for k, v in body.items() if v is not None}
        if form:
            return await self.http.post("/api/oauth/token", data=body)
        return await self.http.post("/api/oauth/token", json=body)

    async def tokens(self, app: RegisteredApp, **kw) -> dict:
        auth = await self.authorize_and_approve(app, **kw)
        response = await self.exchange(app, auth)
        assert response.status_code == 200, response.text
        return response.json()

    async def refresh(self, app: RegisteredApp, refresh_token: str, *, form=False, **overrides):
        body = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            **overrides,
        }
        body = {k: v for k, v in body.items() if v is not None}
        if form:
            return await self.http.post("/api/oauth/token", data=body)
        return await self.http.post("/api/oauth/token", json=body)

    async def introspect(self, app: RegisteredApp, token: str) -> dict:
        response = await self.http.post(
            "/api/oauth/introspect",
            json={"token": token, "client_id": app.client_id, "client_secret": app.client_secret},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def revoke(self, app: RegisteredApp, token: str):
        body = {"token": token, "client_id": app.client_id, "client_secret": app.client_secret}
        return await self.http.post(
            "/api/oauth/revoke", json={k: v for k, v in body.items() if v is not None}
        )

    async def me(self, access_token: str) -> httpx.Response:
        return await self.http.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {access_token}"}
        )
