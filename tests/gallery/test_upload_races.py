"""Issue 10, item 4, each race pinned at its worst moment: the other request runs while the
upload is between writing its files and committing its row."""

from __future__ import annotations

import asyncio

from piksend.gallery.blob_sweep import BlobSweeper, SweepPolicy
from piksend.gallery.blobs import LocalBlobStore
from tests.faults.blob_support import age_files, census, sweep_after_grace
from tests.support.images import make_image


def pause_after_put(monkeypatch, app, during) -> None:
    """Run the coroutine ``during()`` on the event loop right after the upload's second ``put``
    (its thumbnail), while the upload waits: its files exist, its row does not yet."""
    loop = asyncio.get_running_loop()
    store: LocalBlobStore = app.state.ctx.blobs
    real_put = store.put_sync
    calls = []

    def put(data: bytes) -> str:
        key = real_put(data)
        calls.append(key)
        if len(calls) == 2:
            asyncio.run_coroutine_threadsafe(during(), loop).result(timeout=30)
        return key

    monkeypatch.setattr(store, "put_sync", put)


async def test_an_upload_into_a_gallery_deleted_meanwhile_answers_404_and_leaves_no_row(
    world, app, monkeypatch
):
    gallery = await world.alice.create_gallery()
    deleted = []

    async def delete_the_gallery():
        deleted.append(await world.alice.delete(f"/api/v1/galleries/{gallery['id']}"))

    pause_after_put(monkeypatch, app, delete_the_gallery)
    response = await world.alice.upload(gallery["id"], make_image("PNG"))
    assert [r.status_code for r in deleted] == [204]
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "error_description": "No such gallery"}
    ctx = app.state.ctx
    left = await census(ctx.db, ctx.settings.data_dir)
    assert (len(left.lost), len(left.orphans)) == (0, 2)  # the upload's files, until the sweep
    assert await sweep_after_grace(app) == {"blobs": 2, "partials": 0, "restored": 0}
    assert await census(ctx.db, ctx.settings.data_dir) == type(left)(frozenset(), frozenset())


async def test_deleting_an_image_while_the_same_bytes_are_uploaded_elsewhere_loses_nothing(
    world, app, monkeypatch
):
    data = make_image("PNG", color=(10, 200, 30))
    first_gallery = await world.alice.create_gallery("First")
    second_gallery = await world.alice.create_gallery("Second")
    first = (await world.alice.upload(first_gallery["id"], data)).json()
    # The stored file is old, as if uploaded long ago: only the second upload's put keeps it.
    age_files(app.state.ctx.settings.data_dir, 7200)
    during = []

    async def delete_the_first_then_sweep():
        during.append((await world.alice.delete(f"/api/v1/images/{first['id']}")).status_code)
        during.append(await sweep_after_grace_without_aging(app))

    pause_after_put(monkeypatch, app, delete_the_first_then_sweep)
    response = await world.alice.upload(second_gallery["id"], data)
    assert during == [204, {"blobs": 0, "partials": 0, "restored": 0}]
    assert response.status_code == 201
    content = await world.alice.get(f"/api/v1/images/{response.json()['id']}/content")
    assert (content.status_code, content.content) == (200, data)


async def sweep_after_grace_without_aging(app) -> dict[str, int]:
    """A sweep with the default grace, of the files as they are (the in-flight ones are new)."""
    ctx = app.state.ctx
    return await BlobSweeper(ctx.db, ctx.blobs, SweepPolicy()).sweep()
