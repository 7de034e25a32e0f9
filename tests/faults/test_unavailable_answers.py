"""Unavailable is 503, never 500 (issue 10, item 1), endpoint by endpoint, through the app.

A PostgreSQL URL on port 1 of loopback (nothing listens; the connection is refused at once)
fails every path the way a stopped server does: the asyncpg fast path with the OS's own
``ConnectionRefusedError``, SQLAlchemy with the same. A SQLite write lock held by another
connection, with a short busy wait, fails writers with SQLITE_BUSY after the reads passed.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from piksend.app import create_app
from tests.conftest import ISSUER
from tests.support.pkce import pkce_pair

UNAVAILABLE_JSON = {
    "error": "temporarily_unavailable",
    "error_description": "PikSend is temporarily unavailable; retry in a few seconds",
}
REFUSED_URL = "postgresql://postgres@127.0.0.1:1/piksend"


@asynccontextmanager
async def client_for(settings):
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            yield client
    finally:
        await app.state.ctx.db.dispose()


@contextmanager
def write_lock_held(database_url: str):
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) until the block ends."""
    path = database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def assert_unavailable_json(response: httpx.Response) -> None:
    assert (response.status_code, response.json()) == (503, UNAVAILABLE_JSON)
    assert response.headers["retry-after"] == "2"
    assert response.headers["cache-control"] == "no-store"


@contextmanager
def silent_listener():
    """A loopback port that accepts connections and never says a word (a hung server)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield server.getsockname()[1]


@pytest.fixture
def refused(settings):
    return settings.with_(database_url=REFUSED_URL)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/oauth/token", {"grant_type": "refresh_token", "refresh_token": "pks_rt_x"}),
        ("/api/oauth/introspect", {"token": "pks_at_x"}),
        ("/api/oauth/revoke", {"token": "pks_at_x"}),
    ],
)
async def test_the_hot_oauth_endpoints_answer_503_temporarily_unavailable_when_postgresql_refuses(
    refused, path, body
):
    async with client_for(refused) as client:
        response = await client.post(path, json={**body, "client_id": "c", "client_secret": "s"})
    assert_unavailable_json(response)


async def test_the_api_answers_503_temporarily_unavailable_when_postgresql_refuses(refused):
    async with client_for(refused) as client:
        me = await client.get("/api/v1/me", headers={"Authorization": "Bearer pks_at_x"})
        galleries = await client.get(
            "/api/v1/galleries", headers={"Authorization": "Bearer pks_at_x"}
        )
    assert_unavailable_json(me)
    assert_unavailable_json(galleries)


async def test_authorize_shows_the_unavailable_page_when_the_client_cannot_be_looked_up(refused):
    _, challenge = pkce_pair()
    query = {
        "client_id": "pks_ci_someone",
        "redirect_uri": "https://app.example.com/callback",
        "response_type": "code",
        "scope": "profile:read",
        "state": "s-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    async with client_for(refused) as client:
        response = await client.get("/api/oauth/authorize?" + urlencode(query))
    assert response.status_code == 503
    assert "location" not in response.headers
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Temporarily unavailable</h1>" in response.text


async def test_a_browser_form_gets_the_unavailable_page_when_postgresql_refuses(refused):
    async with client_for(refused) as client:
        page = await client.get("/login")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = await client.post(
            "/login", data={"csrf_token": csrf, "email": "a@example.com", "password": "pw"}
        )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "<h1>Temporarily unavailable</h1>" in response.text


async def test_authorize_redirects_temporarily_unavailable_with_state_and_iss_once_the_client_is_verified(
    settings, alice, registered, driver
):
    signed_in = await driver.sign_in("alice@example.com", "correct horse")
    assert signed_in.status_code == 303
    cookies = dict(driver.http.cookies)
    _, challenge = pkce_pair()
    params = driver.authorize_params(registered, code_challenge=challenge, state="st-9")
    async with client_for(settings.with_(sqlite_busy_timeout=0.2)) as client:
        client.cookies.update(cookies)
        with write_lock_held(settings.database_url):
            response = await client.get("/api/oauth/authorize?" + urlencode(params))
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == registered.redirect_uri
    assert parse_qs(location.query) == {
        "error": ["temporarily_unavailable"],
        "error_description": [UNAVAILABLE_JSON["error_description"]],
        "state": ["st-9"],
        "iss": [ISSUER],
    }


async def test_a_sqlite_writer_behind_a_held_write_lock_gets_503_and_nothing_is_written(
    settings, alice, registered, driver
):
    tokens = await driver.tokens(registered, scopes=["galleries:write", "galleries:read"])
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with client_for(settings.with_(sqlite_busy_timeout=0.2)) as client:
        with write_lock_held(settings.database_url):
            created = await client.post("/api/v1/galleries", json={"title": "Trip"}, headers=bearer)
            refreshed = await client.post(
                "/api/oauth/token",
                json={
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                    "client_id": registered.client_id,
                    "client_secret": registered.client_secret,
                },
            )
        listed = await client.get("/api/v1/galleries", headers=bearer)
        again = await driver.refresh(registered, tokens["refresh_token"])
    assert_unavailable_json(created)
    assert_unavailable_json(refreshed)
    assert listed.status_code == 200
    assert listed.json()["data"] == []
    assert again.status_code == 200  # the refused rotation left the token as it was


async def test_a_database_that_accepts_connections_but_never_answers_is_503_after_the_connect_timeout(
    settings,
):
    with silent_listener() as port:
        hung = settings.with_(
            database_url=f"postgresql://postgres@127.0.0.1:{port}/piksend", db_connect_timeout=0.5
        )
        # Bounded: asyncpg's own connect timeout (60 s) would otherwise hold every request.
        async with client_for(hung) as client, asyncio.timeout(20):
            token = await client.post(
                "/api/oauth/introspect",
                json={"token": "pks_at_x", "client_id": "c", "client_secret": "s"},
            )
            galleries = await client.get(
                "/api/v1/galleries", headers={"Authorization": "Bearer pks_at_x"}
            )
            ready = await client.get("/readyz")
    assert_unavailable_json(token)
    assert_unavailable_json(galleries)
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "unavailable", "database": "unreachable", "storage": "ok"},
    )
