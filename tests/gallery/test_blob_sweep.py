"""The blob sweep (issue 10, item 4): a file goes only when no row refers to it and it is older
than the grace period, in bounded rounds, and never one an upload in flight just stored."""

from __future__ import annotations

import hashlib
import os
import time

from piksend.gallery.blob_sweep import ABANDONED_AFTER, BlobSweeper, SweepPolicy
from piksend.gallery.blobs import LocalBlobStore
from tests.faults.blob_support import age_files, every_file, stored_keys
from tests.support.images import make_image

GRACE = 3600.0


def sweeper(app, **policy) -> BlobSweeper:
    ctx = app.state.ctx
    return BlobSweeper(ctx.db, ctx.blobs, SweepPolicy(grace=GRACE, **policy))


def store_of(app) -> LocalBlobStore:
    return app.state.ctx.blobs


def set_age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_a_file_no_row_refers_to_stays_while_it_is_younger_than_the_grace_period(app):
    key = store_of(app).put_sync(b"uploaded, row not committed yet")
    assert await sweeper(app).sweep() == {"blobs": 0, "partials": 0, "restored": 0}
    assert stored_keys(app.state.ctx.settings.data_dir) == {key}


async def test_a_file_no_row_refers_to_goes_once_older_than_the_grace_period(app):
    store_of(app).put_sync(b"an orphan")
    age_files(app.state.ctx.settings.data_dir, GRACE + 1)
    assert await sweeper(app).sweep() == {"blobs": 1, "partials": 0, "restored": 0}
    assert every_file(app.state.ctx.settings.data_dir) == []


async def test_an_old_file_a_row_refers_to_is_kept(world, app):
    gallery = await world.alice.create_gallery()
    assert (await world.alice.upload(gallery["id"], make_image("PNG"))).status_code == 201
    data_dir = app.state.ctx.settings.data_dir
    before = stored_keys(data_dir)
    age_files(data_dir, GRACE * 10)
    assert await sweeper(app).sweep() == {"blobs": 0, "partials": 0, "restored": 0}
    assert stored_keys(data_dir) == before
    assert len(before) == 2


async def test_an_interrupted_write_goes_after_the_grace_period_and_not_before(app):
    store = store_of(app)
    key = store.put_sync(b"x")
    shard = store.root / key[:2] / key[2:4]
    (shard / ".tmp-old.part").write_bytes(b"half")
    (shard / ".tmp-new.part").write_bytes(b"half")
    set_age(shard / ".tmp-old.part", GRACE + 1)
    assert await sweeper(app).sweep() == {"blobs": 0, "partials": 1, "restored": 0}
    assert sorted(p.name for p in shard.iterdir()) == sorted([".tmp-new.part", key])


async def test_bytes_put_again_between_the_listing_and_the_rename_are_restored(app, monkeypatch):
    store = store_of(app)
    data = b"the same bytes, uploaded again"
    key = store.put_sync(data)
    age_files(app.state.ctx.settings.data_dir, GRACE + 1)
    real_retire = store.retire_sync

    def retire_after_a_racing_put(k: str):
        assert store.put_sync(data) == k  # an upload in flight finds the file and refreshes it
        return real_retire(k)

    monkeypatch.setattr(store, "retire_sync", retire_after_a_racing_put)
    assert await sweeper(app).sweep() == {"blobs": 0, "partials": 0, "restored": 1}
    assert stored_keys(app.state.ctx.settings.data_dir) == {key}
    assert await store.get(key) == data


async def test_a_row_committed_between_the_two_lookups_keeps_its_file(world, app, monkeypatch):
    gallery = await world.alice.create_gallery()
    assert (await world.alice.upload(gallery["id"], make_image("GIF"))).status_code == 201
    data_dir = app.state.ctx.settings.data_dir
    before = stored_keys(data_dir)
    age_files(data_dir, GRACE + 1)
    sweep = sweeper(app)
    real_lookup = sweep._referenced
    lookups = []

    async def first_lookup_misses_the_row(keys):
        keys = list(keys)
        lookups.append(len(keys))
        return set() if len(lookups) == 1 else await real_lookup(keys)

    monkeypatch.setattr(sweep, "_referenced", first_lookup_misses_the_row)
    assert await sweep.sweep() == {"blobs": 0, "partials": 0, "restored": 2}
    assert lookups == [2, 2]
    assert stored_keys(data_dir) == before


async def test_a_file_left_retired_by_a_crashed_sweep_is_restored_if_a_row_refers_to_it(world, app):
    gallery = await world.alice.create_gallery()
    image = (await world.alice.upload(gallery["id"], make_image("PNG"))).json()
    store = store_of(app)
    store.put_sync(b"an orphan retired by the same crash")
    data_dir = app.state.ctx.settings.data_dir
    before = stored_keys(data_dir)
    age_files(data_dir, GRACE + 1)
    for key in sorted(before):
        aside = store.retire_sync(key)
        assert aside is not None
        crashed_at = int(time.time() - ABANDONED_AFTER - 1)
        aside.path.rename(aside.path.with_name(f".{key}.{crashed_at}.00.retired"))
    assert stored_keys(data_dir) == set()
    assert await sweeper(app).sweep() == {"blobs": 1, "partials": 0, "restored": 2}
    assert stored_keys(data_dir) == before - {
        hashlib.sha256(b"an orphan retired by the same crash").hexdigest()
    }
    content = await world.alice.get(f"/api/v1/images/{image['id']}/content")
    assert content.status_code == 200


async def test_a_round_looks_at_a_bounded_number_of_files_and_the_next_one_goes_on(app):
    store = store_of(app)
    # Eight orphans in eight different shard directories.
    keys = set()
    n = 0
    while len({k[:4] for k in keys}) < 8:
        keys.add(store.put_sync(f"orphan {n}".encode()))
        n += 1
    assert len(keys) == 8
    age_files(app.state.ctx.settings.data_dir, GRACE + 1)
    sweep = sweeper(app, batch=2, max_batches=2)
    assert [(await sweep.sweep())["blobs"] for _ in range(3)] == [4, 4, 0]
    assert stored_keys(app.state.ctx.settings.data_dir) == set()
