"""``piksend serve --workers 2``: two worker processes behave as one server.

Nothing that must be shared lives in a worker's memory: a token issued through one worker opens
the API through any, a refresh token rotated by one is detected as reused by the other, and
/metrics sums every worker's counters (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

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
ROUNDS = 12


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'workers.db'}"
        return
    base = testdb.pg_url()
    if base is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    url = testdb.create_pg_database(base)
    try:
        yield url
    finally:
        testdb.drop_pg_database(url)


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def wait_for_workers(server: LiveServer, count: int, timeout: float = 30.0) -> set[int]:
    """Until ``count`` worker processes of the supervisor said their application is up
    (uvicorn logs each worker's pid; the supervisor may have other helpers, not workers)."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.log()
        announced = {int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", log)}
        workers = announced & children(server.process.pid)
        if len(workers) == count and log.count("Application startup complete") >= count:
            return workers
        if time.monotonic() > deadline:
            raise AssertionError(f"{workers} of {count} workers up after {timeout}s:\n{log}")
        time.sleep(0.1)


def counter(exposition: str, name: str) -> float:
    (value,) = re.findall(rf"^{name} (\S+)$", exposition, flags=re.M)
    return float(value)


async def registered_app(server: LiveServer, http: httpx.AsyncClient) -> RegisteredApp:
    scopes = " ".join(SCOPES)
    email, password = "workers@example.com", "correct horse"
    server.cli("users", "create", "--email", email, "--password", password, "--name", "W")
    created = server.cli(
        "apps", "create", "--owner", email, "--name", "Workers App",
        "--redirect-uri", REDIRECT_URI, "--scopes", scopes,
    )  # fmt: skip
    signed_in = await OAuthDriver(http, app=None).sign_in(email, password)
    assert signed_in.status_code == 303, signed_in.text
    return RegisteredApp(created["client_id"], created["client_secret"], REDIRECT_URI, scopes)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
async def test_two_workers_serve_one_set_of_tokens_and_sum_their_metrics(tmp_path, database):
    with live_server(
        tmp_path / "data",
        database,
        args=("--workers", "2"),
        PIKSEND_METRICS_TOKEN="live-metrics",
        PIKSEND_REFRESH_GRACE_SECONDS="0",  # reuse detection itself (grace retries: elsewhere)
    ) as server:
        workers = wait_for_workers(server, 2)
        assert server.process.pid not in workers

        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            driver = OAuthDriver(http, app=None)
            app = await registered_app(server, http)
            tokens = await driver.tokens(app)
            # a fresh connection per round, so the kernel may hand each to either worker
            for _ in range(ROUNDS):
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as fresh:
                    me = await fresh.get(
                        "/api/v1/me", headers={"authorization": f"Bearer {tokens['access_token']}"}
                    )
                    assert me.status_code == 200, me.text
                    rotated = await OAuthDriver(fresh, app=None).refresh(
                        app, tokens["refresh_token"]
                    )
                    assert rotated.status_code == 200, rotated.text
                    previous, tokens = tokens, rotated.json()
            replay = await driver.refresh(app, previous["refresh_token"])
            assert (replay.status_code, replay.json()) == (400, REFRESH_REUSED)
            assert (await driver.me(tokens["access_token"])).status_code == 401

            exposition = (
                await http.get("/metrics", headers={"authorization": "Bearer live-metrics"})
            ).text
        assert counter(exposition, "piksend_tokens_issued_total") == 1
        assert counter(exposition, "piksend_tokens_refreshed_total") == ROUNDS
        assert counter(exposition, "piksend_refresh_token_reuse_detections_total") == 1
        assert workers <= children(server.process.pid)  # no worker died on the way
    assert server.process.returncode == 0, server.log()
