"""Issue 10, item 5, against a real ``piksend serve``: ``kill -9`` between a refresh's commit and
its response. The client never got the response and retries with the refresh token it still
holds; inside the grace window that retry gets the successor the rotation committed and the
grant lives; once the window has passed it is reuse and the grant is revoked (RFC 9700
§4.14.2, ``piksend.oauth.refresh_grace``).

The response is held by the test-only fault point ``PIKSEND_TEST_FAULT_AFTER_ROTATION_COMMIT``
(``web/fault_points.py``), read only with ``PIKSEND_ENABLE_TEST_FAULTS=1``."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from piksend.oauth import tokens as t
from piksend.storage.engine import sync_url
from tests.support import db as testdb
from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.live import LiveServer, live_server

pytestmark = pytest.mark.live

REDIRECT_URI = "https://app.example.com/callback"
SCOPES = "profile:read galleries:read"
HOLD = {"PIKSEND_ENABLE_TEST_FAULTS": "1", "PIKSEND_TEST_FAULT_AFTER_ROTATION_COMMIT": "1"}
REFRESH_REUSED = {
    "error": "invalid_grant",
    "error_description": "Refresh token has already been used; the authorization has been revoked",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def live_db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    url = testdb.pg_url()
    if url is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    return testdb.reset_postgres(url)


def scalar(database_url: str, sql: str, **params):
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


async def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout:.0f}s for {what}")
        await asyncio.sleep(0.05)


async def grant_on(server: LiveServer) -> tuple[RegisteredApp, dict]:
    """An app and a token pair, got as a real app gets them: sign in, approve, exchange."""
    email, password = "owner@example.com", "correct horse"
    server.cli("users", "create", "--email", email, "--password", password, "--name", "Owner")
    created = server.cli(
        "apps", "create", "--owner", email, "--name", "Crash App",
        "--redirect-uri", REDIRECT_URI, "--scopes", SCOPES,
    )  # fmt: skip
    app = RegisteredApp(created["client_id"], created["client_secret"], REDIRECT_URI, SCOPES)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        driver = OAuthDriver(http, app=None)
        assert (await driver.sign_in(email, password)).status_code == 303
        return app, await driver.tokens(app)


async def refresh_cut_by_kill_9(server: LiveServer, app: RegisteredApp, refresh_token: str):
    """Send a refresh, wait for its rotation to commit (the kept successor row is written in
    the same statement or transaction), then SIGKILL the server while the response is held."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        pending = asyncio.ensure_future(OAuthDriver(http, app=None).refresh(app, refresh_token))
        digest = t.digest(refresh_token)
        rotated = "SELECT count(*) FROM tokens WHERE digest = :d AND rotated_at IS NOT NULL"
        await wait_for(lambda: scalar(server.database_url, rotated, d=digest) == 1, "the commit")
        assert not pending.done()  # committed, and the response is still held
        server.process.kill()  # kill -9: no shutdown, the response never leaves
        server.process.wait()
        with pytest.raises(httpx.TransportError):
            await pending


def successor_digest(database_url: str, refresh_token: str) -> str:
    sql = "SELECT successor_digest FROM refresh_retries WHERE digest = :d"
    return scalar(database_url, sql, d=t.digest(refresh_token))


async def test_a_refresh_cut_by_kill_9_is_retried_after_the_restart_and_gets_its_successor(
    tmp_path, live_db
):
    data = tmp_path / "data"
    with live_server(data, live_db, **HOLD) as first:
        app, held = await grant_on(first)
        port = first.port  # the same issuer again: tokens are bound to its resources
        await refresh_cut_by_kill_9(first, app, held["refresh_token"])
    committed = successor_digest(live_db, held["refresh_token"])
    with live_server(data, live_db, port=port) as again:
        async with httpx.AsyncClient(base_url=again.url, timeout=30) as http:
            driver = OAuthDriver(http, app=None)
            retry = await driver.refresh(app, held["refresh_token"])
            assert retry.status_code == 200, retry.text
            successor = retry.json()
            # the successor the rotation committed before the kill, not a new pair
            assert t.digest(successor["refresh_token"]) == committed
            second = await driver.refresh(app, held["refresh_token"])
            assert (second.status_code, second.content) == (200, retry.content)
            # the grant is alive: the successor's access token works, and it refreshes on
            assert (await driver.me(successor["access_token"])).status_code == 200
            onward = await driver.refresh(app, successor["refresh_token"])
            assert onward.status_code == 200, onward.text
    refreshes = "SELECT count(*) FROM tokens WHERE kind = 'refresh' AND revoked_at IS NULL"
    assert scalar(live_db, refreshes) == 3  # the first, its one successor, and the onward one


async def test_a_refresh_cut_by_kill_9_and_retried_after_the_window_revokes_the_grant(
    tmp_path, live_db
):
    data = tmp_path / "data"
    window = 2  # seconds: the retry below comes after it ended
    with live_server(data, live_db, PIKSEND_REFRESH_GRACE_SECONDS=str(window), **HOLD) as first:
        app, held = await grant_on(first)
        port = first.port  # the same issuer again: tokens are bound to its resources
        await refresh_cut_by_kill_9(first, app, held["refresh_token"])
        killed = time.monotonic()
    with live_server(data, live_db, port=port) as again:
        await asyncio.sleep(max(0.0, killed + window + 0.5 - time.monotonic()))
        async with httpx.AsyncClient(base_url=again.url, timeout=30) as http:
            driver = OAuthDriver(http, app=None)
            retry = await driver.refresh(app, held["refresh_token"])
            assert (retry.status_code, retry.json()) == (400, REFRESH_REUSED)
            assert (await driver.me(held["access_token"])).status_code == 401
    live = "SELECT count(*) FROM tokens WHERE revoked_at IS NULL"
    assert scalar(live_db, live) == 0  # the successor the client never saw went too
    assert scalar(live_db, "SELECT count(*) FROM consents WHERE revoked_at IS NULL") == 0
