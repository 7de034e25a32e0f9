"""Issue 10, item 6, against a real ``piksend serve``: a webhook delivery cut by ``kill -9`` while
the receiver holds its request is sent again, with the same delivery id, within 15 seconds of
the restart, on the default lease (10 s, renewed while sending) and poll interval (2 s)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support import db as testdb
from tests.support.live import live_server
from tests.support.live_api import live_token

pytestmark = pytest.mark.live

BOUND = 15.0  # seconds from the restart (issue 10, item 6)


@dataclass(frozen=True)
class Arrival:
    delivery_id: str
    at: float  # time.monotonic()


class HoldingReceiver:
    """A loopback receiver that holds the first request until the test ends and answers every
    later one at once."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    receiver.arrivals.append(
                        Arrival(self.headers["x-piksend-delivery"], time.monotonic())
                    )
                    first = len(receiver.arrivals) == 1
                if first:
                    receiver._release.wait(timeout=120)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def __enter__(self) -> HoldingReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["sqlite", "postgresql"])
def live_db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    url = testdb.pg_url()
    if url is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    return testdb.reset_postgres(url)


def wait_until(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout:.0f}s for {what}")
        time.sleep(0.02)


async def test_a_delivery_cut_by_kill_9_is_sent_again_with_its_id_soon_after_the_restart(
    tmp_path, live_db
):
    data = tmp_path / "data"
    env = {"PIKSEND_WEBHOOKS_ALLOW_PRIVATE": "1"}
    with HoldingReceiver() as receiver:
        with live_server(data, live_db, **env) as first:
            token = await live_token(first, "galleries:read galleries:write webhooks:write")
            auth = {"authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=first.url, headers=auth, timeout=30) as api:
                hook = await api.post(
                    "/api/v1/webhooks", json={"url": receiver.url, "events": ["gallery.created"]}
                )
                assert hook.status_code == 201, hook.text
                created = await api.post("/api/v1/galleries", json={"title": "Cut"})
                assert created.status_code == 201, created.text
            wait_until(lambda: receiver.count() == 1, "the first attempt", timeout=30)
            first.process.kill()  # SIGKILL mid-send: no shutdown, the lease stays
            first.process.wait()
            killed = time.monotonic()
        with live_server(data, live_db, **env):
            restarted = time.monotonic()
            wait_until(lambda: receiver.count() >= 2, "the delivery again", timeout=BOUND)
        [cut, again] = receiver.arrivals
    assert again.delivery_id == cut.delivery_id
    figures = {
        "database": live_db.split(":", 1)[0],
        "seconds from kill -9 to redelivery": round(again.at - killed, 1),
        "seconds from restart (serving) to redelivery": round(again.at - restarted, 1),
    }
    print(json.dumps(figures))
