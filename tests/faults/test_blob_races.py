"""Issue 10, item 4: blobs are never lost or orphaned when requests race, on both databases.

Each scenario runs 50 trials of two real concurrent requests against the app (each request on
its own database connection; a seeded jitter spreads where they meet), then takes a census:
every row's file exists, and after one maintenance pass no file is left that no row refers to.
The counts are printed (``-s``) for the issue's closing note.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import pytest

from tests.faults.blob_support import Census, census, sweep_after_grace
from tests.gallery.conftest import settings, world  # noqa: F401 (fixtures)
from tests.support import db as testdb
from tests.support.images import make_image

TRIALS = 50
NONE_LEFT = Census(frozenset(), frozenset())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, tmp_path_factory):
    """Both databases here (the faults conftest's default is SQLite only)."""
    if request.param == "postgresql":
        url = testdb.pg_url()
        if url is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        return testdb.reset_postgres(url)
    return testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp())


def bucket(status: int) -> str:
    if 200 <= status < 300:
        return "2xx"
    if status == 503:
        return "503"
    return "other 5xx" if status >= 500 else str(status)


async def after(delay: float, request):
    await asyncio.sleep(delay)
    return await request


def image_bytes(trial: int, scenario: int) -> bytes:
    return make_image("PNG", color=(trial, scenario * 100, 200))


async def test_fifty_uploads_racing_the_deletion_of_their_gallery_lose_and_orphan_nothing(
    world,  # noqa: F811
    app,
    database_url,
):
    jitter = random.Random(1)
    uploads: Counter[str] = Counter()
    deletes: Counter[str] = Counter()
    for trial in range(TRIALS):
        gallery = await world.alice.create_gallery(f"Trial {trial}")
        upload, delete = await asyncio.gather(
            after(
                jitter.uniform(0, 0.005), world.alice.upload(gallery["id"], image_bytes(trial, 1))
            ),
            after(
                jitter.uniform(0, 0.04), world.alice.delete(f"/api/v1/galleries/{gallery['id']}")
            ),
        )
        uploads[bucket(upload.status_code)] += 1
        deletes[bucket(delete.status_code)] += 1
        if upload.status_code == 404:
            assert upload.json() == {"error": "not_found", "error_description": "No such gallery"}
    ctx = app.state.ctx
    before = await census(ctx.db, ctx.settings.data_dir)
    removed = await sweep_after_grace(app)
    left = await census(ctx.db, ctx.settings.data_dir)
    print(
        json.dumps(
            {
                "scenario": "upload vs gallery delete",
                "database": ctx.db.engine.dialect.name,
                "uploads": dict(uploads),
                "deletes": dict(deletes),
                "lost": len(before.lost),
                "orphans before the sweep": len(before.orphans),
                "removed by the sweep": removed,
                "orphans after the sweep": len(left.orphans),
            }
        )
    )
    assert set(uploads) <= {"2xx", "404"} and sum(uploads.values()) == TRIALS
    assert deletes == {"2xx": TRIALS}
    assert before.lost == frozenset()
    assert removed["blobs"] == len(before.orphans)
    assert left == NONE_LEFT


async def test_fifty_image_deletes_racing_an_upload_of_the_same_bytes_lose_and_orphan_nothing(
    world,  # noqa: F811
    app,
    database_url,
):
    jitter = random.Random(2)
    source = await world.alice.create_gallery("Source")
    target = await world.alice.create_gallery("Target")
    uploads: Counter[str] = Counter()
    deletes: Counter[str] = Counter()
    lost_content = 0
    for trial in range(TRIALS):
        data = image_bytes(trial, 2)
        first = await world.alice.upload(source["id"], data)
        assert first.status_code == 201, first.text
        delete, upload = await asyncio.gather(
            after(
                jitter.uniform(0, 0.02), world.alice.delete(f"/api/v1/images/{first.json()['id']}")
            ),
            after(jitter.uniform(0, 0.02), world.alice.upload(target["id"], data)),
        )
        uploads[bucket(upload.status_code)] += 1
        deletes[bucket(delete.status_code)] += 1
        if upload.status_code == 201:
            content = await world.alice.get(f"/api/v1/images/{upload.json()['id']}/content")
            if (content.status_code, content.content) != (200, data):
                lost_content += 1
    ctx = app.state.ctx
    before = await census(ctx.db, ctx.settings.data_dir)
    removed = await sweep_after_grace(app)
    left = await census(ctx.db, ctx.settings.data_dir)
    print(
        json.dumps(
            {
                "scenario": "image delete vs same-bytes upload",
                "database": ctx.db.engine.dialect.name,
                "uploads": dict(uploads),
                "deletes": dict(deletes),
                "lost": lost_content + len(before.lost),
                "orphans before the sweep": len(before.orphans),
                "removed by the sweep": removed,
                "orphans after the sweep": len(left.orphans),
            }
        )
    )
    assert uploads == {"2xx": TRIALS}
    assert deletes == {"2xx": TRIALS}
    assert lost_content == 0
    assert before == NONE_LEFT  # every deleted image's bytes are the new row's
    assert removed == {"blobs": 0, "partials": 0, "restored": 0}
    assert left == NONE_LEFT
