"""Against a real ``piksend serve``: webhook deliveries survive a crash and a restart, and a
schemathesis fuzz run of the OpenAPI document finds no 5xx and no response it contradicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from piksend.gallery import webhook_signing
from piksend.oauth.scopes import SCOPES
from tests.support import db as testdb
from tests.support.live import live_server
from tests.support.live_api import live_token
from tests.support.receiver import Receiver

pytestmark = pytest.mark.live

FAST_WORKER = {
    "PIKSEND_WEBHOOKS_ALLOW_PRIVATE": "1",
    "PIKSEND_WEBHOOK_POLL_INTERVAL": "0.1",
    "PIKSEND_WEBHOOK_BACKOFF_BASE": "0.2",
    "PIKSEND_WEBHOOK_MAX_ATTEMPTS": "50",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def live_db(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    base = testdb.pg_url()
    if base is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    url = testdb.create_pg_database(base)
    try:
        yield url
    finally:
        testdb.drop_pg_database(url)


def wait_until(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


async def test_deliveries_queued_before_a_crash_are_sent_once_each_after_restart(tmp_path, live_db):
    data = tmp_path / "data"
    with Receiver() as receiver:
        # The first server never polls: its deliveries are only in the database when it dies.
        with live_server(
            data, live_db, **FAST_WORKER | {"PIKSEND_WEBHOOK_POLL_INTERVAL": "3600"}
        ) as first:
            token = await live_token(first, " ".join(SCOPES))
            auth = {"authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=first.url, headers=auth, timeout=30) as api:
                hook = (
                    await api.post(
                        "/api/v1/webhooks",
                        json={"url": receiver.url, "events": ["gallery.created"]},
                    )
                ).json()
                for title in ("One", "Two", "Three"):
                    assert (
                        await api.post("/api/v1/galleries", json={"title": title})
                    ).status_code == 201
                queued = (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
            first.process.kill()  # a crash: no shutdown, no cleanup
            first.process.wait()
        assert receiver.requests == []
        queued_ids = {d["id"] for d in queued["data"]}
        assert len(queued_ids) == 3

        receiver.fail_next(4)  # the receiver is flaky at first: retries must follow
        # the same port, data and database: a restart, not a second server beside the first
        with live_server(data, live_db, port=first.port, **FAST_WORKER) as second:
            wait_until(lambda: len(receiver.succeeded()) >= 3, "three successful deliveries")
            # The receiver answered before the worker records the outcome: wait for the log.
            with httpx.Client(base_url=second.url, headers=auth, timeout=30) as api:

                def recorded() -> bool:
                    nonlocal log
                    listed = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
                    assert listed.status_code == 200, listed.text
                    log = listed.json()
                    return all(d["status"] == "succeeded" for d in log["data"])

                log: dict = {}
                wait_until(recorded, "the delivery log to record three successes")

    delivered = [r.headers["x-piksend-delivery"] for r in receiver.succeeded()]
    assert sorted(delivered) == sorted(queued_ids)  # each exactly once, none lost
    assert {r.headers["x-piksend-delivery"] for r in receiver.requests} == queued_ids
    assert len(receiver.requests) == 3 + 4
    now = int(time.time())
    for r in receiver.requests:
        assert webhook_signing.verify(
            hook["secret"], r.headers["x-piksend-signature"], r.body, now=now
        )
        assert json.loads(r.body)["id"] == r.headers["x-piksend-delivery"]
    assert sorted(d["status"] for d in log["data"]) == ["succeeded"] * 3


async def test_a_restart_between_retries_keeps_the_delivery_and_its_id(tmp_path, live_db):
    data = tmp_path / "data"
    with Receiver() as receiver:
        receiver.fail_next(10**6)
        with live_server(data, live_db, **FAST_WORKER) as first:
            token = await live_token(first, " ".join(SCOPES))
            auth = {"authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=first.url, headers=auth, timeout=30) as api:
                await api.post(
                    "/api/v1/webhooks", json={"url": receiver.url, "events": ["gallery.created"]}
                )
                await api.post("/api/v1/galleries", json={"title": "Retried"})
            wait_until(lambda: len(receiver.requests) >= 2, "two failed attempts")
        failed_ids = {r.headers["x-piksend-delivery"] for r in receiver.requests}
        receiver.fail_next(0)
        with live_server(data, live_db, port=first.port, **FAST_WORKER):
            wait_until(lambda: len(receiver.succeeded()) == 1, "the delivery to succeed")
    assert len(failed_ids) == 1
    assert [r.headers["x-piksend-delivery"] for r in receiver.succeeded()] == list(failed_ids)


def test_schemathesis_finds_no_server_error_and_no_response_that_contradicts_the_document(
    tmp_path,
):
    import asyncio

    data = tmp_path / "data"
    with live_server(
        data, f"sqlite:///{tmp_path / 'fuzz.db'}", PIKSEND_WEBHOOKS_ALLOW_PRIVATE="1"
    ) as server:
        token = asyncio.run(live_token(server, " ".join(SCOPES)))
        # A multipart field can only carry text: a "negative" title such as null or 0 arrives
        # as the string "null" or "0", a valid title, so negative_data_rejection cannot apply
        # to the images path (its upload form); every other check still covers it.
        upload_path = "/api/v1/galleries/{gallery_id}/images"
        checks = (
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance,response_headers_conformance"
        )
        runs = [
            (
                ["--include-path-regex", "^/api/v1/", "--exclude-path", upload_path],
                checks + ",negative_data_rejection",
            ),
            (["--include-path", upload_path], checks),
        ]
        results = []
        for filters, run_checks in runs:
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{server.url}/api/openapi.json",
                *filters,
                "--header", f"Authorization: Bearer {token}",
                "--checks", run_checks,
                "--max-examples", os.environ.get("PIKSEND_FUZZ_EXAMPLES", "25"),
                "--max-time", "75",
                "--workers", "1",
                "--seed", "1",
                "--request-timeout", "30",
                "--generation-deterministic",
            ]  # fmt: skip
            results.append(
                subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=400,
                    env={**os.environ, "NO_COLOR": "1"},
                    cwd=tmp_path,  # schemathesis keeps its example database in the cwd
                )
            )
        server_log = server.log()
    for result in results:
        output = result.stdout + result.stderr
        assert result.returncode == 0, (
            output[-12000:] + "\n--- server log ---\n" + server_log[-4000:]
        )
    assert "Traceback" not in server_log, server_log[-4000:]
