"""Issue 10, item 4, as reported: two live ``piksend serve`` processes on one database and one
data directory, an upload on one racing a delete on the other, 50 trials per scenario, while
each server's own maintenance loop sweeps (every second, a 5-second grace period). Then the
census: every row's file exists, and once the sweeps have run no unreferenced file is left."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from contextlib import ExitStack

import httpx
import pytest

from piksend.storage.engine import Database
from tests.faults.blob_support import Census, census
from tests.faults.test_blob_races import TRIALS, bucket, image_bytes
from tests.support import db as testdb
from tests.support.live import free_port, live_server
from tests.support.live_api import live_token

pytestmark = pytest.mark.live

GRACE = 5.0
SWEPT_WITHIN = 30.0  # seconds: the grace period, then a round (1 s) on either server
ENV = {
    "PIKSEND_TRIM_INTERVAL": "1",
    "PIKSEND_BLOB_SWEEP_GRACE": str(GRACE),
    "PIKSEND_WEBHOOKS_ALLOW_PRIVATE": "1",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def live_db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    url = testdb.pg_url()
    if url is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    return testdb.reset_postgres(url)


async def swept(db: Database, data_dir) -> Census:
    """The census once the servers' sweeps have had time to remove every orphan."""
    deadline = time.monotonic() + SWEPT_WITHIN
    while True:
        now = await census(db, data_dir)
        if not now.orphans or time.monotonic() > deadline:
            return now
        await asyncio.sleep(0.5)


async def after(delay: float, request):
    await asyncio.sleep(delay)
    return await request


@pytest.mark.parametrize("scenario", ["upload vs gallery delete", "image delete vs same bytes"])
async def test_two_servers_racing_uploads_and_deletes_lose_nothing_and_sweep_every_orphan(
    tmp_path, live_db, scenario
):
    data = tmp_path / "data"
    jitter = random.Random(scenario)
    uploads: Counter[str] = Counter()
    deletes: Counter[str] = Counter()
    lost_content = 0
    with ExitStack() as servers:
        port = free_port()
        one = servers.enter_context(
            live_server(
                data, live_db, port=port, **ENV | {"PIKSEND_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            )
        )
        token = await live_token(one, "galleries:read galleries:write images:read images:write")
        # One server behind two addresses: the same public URL (the tokens' audience).
        other = servers.enter_context(
            live_server(data, live_db, **ENV | {"PIKSEND_PUBLIC_URL": one.url})
        )
        auth = {"authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=one.url, headers=auth, timeout=30) as a,
            httpx.AsyncClient(base_url=other.url, headers=auth, timeout=30) as b,
        ):
            target = (await a.post("/api/v1/galleries", json={"title": "Target"})).json()
            for trial in range(TRIALS):
                gallery = (await a.post("/api/v1/galleries", json={"title": f"T{trial}"})).json()
                data_bytes = image_bytes(trial, 3 if scenario.startswith("upload") else 4)
                files = {"file": ("p.png", data_bytes, "image/png")}
                if scenario.startswith("upload"):
                    upload, delete = await asyncio.gather(
                        after(
                            jitter.uniform(0, 0.005),
                            a.post(f"/api/v1/galleries/{gallery['id']}/images", files=files),
                        ),
                        after(
                            jitter.uniform(0, 0.04), b.delete(f"/api/v1/galleries/{gallery['id']}")
                        ),
                    )
                else:
                    first = await a.post(f"/api/v1/galleries/{gallery['id']}/images", files=files)
                    assert first.status_code == 201, first.text
                    delete, upload = await asyncio.gather(
                        after(
                            jitter.uniform(0, 0.02),
                            b.delete(f"/api/v1/images/{first.json()['id']}"),
                        ),
                        after(
                            jitter.uniform(0, 0.02),
                            a.post(f"/api/v1/galleries/{target['id']}/images", files=files),
                        ),
                    )
                    if upload.status_code == 201:
                        content = await b.get(f"/api/v1/images/{upload.json()['id']}/content")
                        lost_content += (content.status_code, content.content) != (200, data_bytes)
                uploads[bucket(upload.status_code)] += 1
                deletes[bucket(delete.status_code)] += 1
        db = Database(live_db)
        try:
            before = await census(db, data)
            left = await swept(db, data)
        finally:
            await db.dispose()
    print(
        json.dumps(
            {
                "scenario": f"two servers: {scenario}",
                "database": live_db.split(":", 1)[0],
                "uploads": dict(uploads),
                "deletes": dict(deletes),
                "lost": lost_content + len(before.lost),
                "orphans right after the trials": len(before.orphans),
                "orphans after the servers' sweeps": len(left.orphans),
            }
        )
    )
    expected_uploads = {"2xx", "404"} if scenario.startswith("upload") else {"2xx"}
    assert set(uploads) <= expected_uploads and sum(uploads.values()) == TRIALS
    assert deletes == {"2xx": TRIALS}
    assert lost_content == 0
    assert before.lost == frozenset()
    assert left == Census(frozenset(), frozenset())
