"""Nothing lives in process memory: after a real restart (the process ends, a new one serves
the same port, data directory and database) every token, code and session issued before works,
and a refresh token rotated before is still detected as reused."""

from __future__ import annotations

import httpx
import pytest

from piksend.oauth.scopes import SCOPES
from tests.support import db as testdb
from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.live import LiveServer, live_server
from tests.support.live_api import REDIRECT_URI

pytestmark = pytest.mark.live

REFRESH_REUSED = {
    "error": "invalid_grant",
    "error_description": "Refresh token has already been used; the authorization has been revoked",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restart.db'}"
        return
    base = testdb.pg_url()
    if base is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    url = testdb.create_pg_database(base)
    try:
        yield url
    finally:
        testdb.drop_pg_database(url)


async def signed_in_app(server: LiveServer, http: httpx.AsyncClient) -> RegisteredApp:
    scopes = " ".join(SCOPES)
    email, password = "restart@example.com", "correct horse"
    server.cli("users", "create", "--email", email, "--password", password, "--name", "R")
    created = server.cli(
        "apps", "create", "--owner", email, "--name", "Restart App",
        "--redirect-uri", REDIRECT_URI, "--scopes", scopes,
    )  # fmt: skip
    signed_in = await OAuthDriver(http, app=None).sign_in(email, password)
    assert signed_in.status_code == 303, signed_in.text
    return RegisteredApp(created["client_id"], created["client_secret"], REDIRECT_URI, scopes)


async def test_tokens_codes_and_sessions_survive_a_real_restart(tmp_path, database):
    # Reuse detection across the restart (grace retries: tests/faults/test_refresh_crash.py).
    with live_server(tmp_path / "data", database, PIKSEND_REFRESH_GRACE_SECONDS="0") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as before:
            driver = OAuthDriver(before, app=None)
            app = await signed_in_app(server, before)
            kept = await driver.tokens(app)
            first = await driver.tokens(app)
            rotated = await driver.refresh(app, first["refresh_token"])
            assert rotated.status_code == 200
            pending = await driver.authorize_and_approve(app)
            cookies = before.cookies
        old_pid = server.process.pid

        server.restart()

        assert server.process.pid != old_pid
        async with httpx.AsyncClient(base_url=server.url, timeout=30, cookies=cookies) as after:
            driver = OAuthDriver(after, app=None)
            assert (await driver.me(kept["access_token"])).status_code == 200
            assert (await driver.refresh(app, kept["refresh_token"])).status_code == 200
            assert (await driver.exchange(app, pending)).status_code == 200
            # the browser's session, signed with the key kept in the data directory
            assert (await after.get("/settings/connected-apps")).status_code == 200
            # the rotation before the restart is remembered: reuse revokes the family
            replay = await driver.refresh(app, first["refresh_token"])
            assert (replay.status_code, replay.json()) == (400, REFRESH_REUSED)
            assert (await driver.me(rotated.json()["access_token"])).status_code == 401
