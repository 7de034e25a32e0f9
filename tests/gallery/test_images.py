"""Uploads: the real type from the bytes, size limits, and failures that leave nothing behind
once the sweep has run (files go only by :mod:`piksend.gallery.blob_sweep`)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from piksend.gallery import webhooks
from piksend.storage.tables import gallery as g
from tests.faults.blob_support import sweep_after_grace
from tests.gallery.conftest import UPLOAD_LIMIT
from tests.support.images import FORMATS, make_image


def stored_files(settings) -> list:
    root = settings.data_dir / "blobs"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def image_rows(app) -> int:
    async with app.state.ctx.db.unit_of_work() as s:
        return await s.scalar(select(func.count()).select_from(g.Image))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
async def test_each_real_format_is_stored_with_its_type_size_and_a_thumbnail(world, fmt):
    gallery = await world.alice.create_gallery()
    data = make_image(fmt, size=(64, 48))
    mime, ext = FORMATS[fmt]
    response = await world.alice.upload(gallery["id"], data, name=f"pic.{ext}", mime=mime)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["mime_type"], body["width"], body["height"], body["size_bytes"]) == (
        mime,
        64,
        48,
        len(data),
    )
    assert body["filename"] == f"pic.{ext}"
    content = await world.alice.get(f"/api/v1/images/{body['id']}/content")
    assert content.status_code == 200
    assert content.headers["content-type"] == mime
    assert content.content == data
    thumb = await world.alice.get(f"/api/v1/images/{body['id']}/content?variant=thumbnail")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content[:3] == b"\xff\xd8\xff"


async def test_a_file_whose_name_and_declared_type_lie_is_stored_as_what_it_really_is(world):
    gallery = await world.alice.create_gallery()
    response = await world.alice.upload(
        gallery["id"], make_image("PNG"), name="holiday.jpg", mime="image/jpeg"
    )
    assert response.status_code == 201
    assert response.json()["mime_type"] == "image/png"
    assert response.json()["filename"] == "holiday.png"


async def test_a_file_that_is_not_an_image_is_refused_and_leaves_nothing(world, app, settings):
    gallery = await world.alice.create_gallery()
    response = await world.alice.upload(
        gallery["id"], b"<html>not an image</html>", name="x.png", mime="image/png"
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "error_description": "The file is not a JPEG, PNG, GIF or WebP image.",
        "field": "file",
    }
    assert await image_rows(app) == 0
    assert stored_files(settings) == []


async def test_a_truncated_image_is_refused_and_leaves_neither_row_nor_file(world, app, settings):
    gallery = await world.alice.create_gallery()
    data = make_image("JPEG", size=(300, 200))
    response = await world.alice.upload(gallery["id"], data[: len(data) // 2], name="cut.jpg")
    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "error_description": "The image file is truncated or corrupt.",
        "field": "file",
    }
    assert await image_rows(app) == 0
    assert stored_files(settings) == []


async def test_a_file_just_over_the_limit_is_413(world, app, settings):
    gallery = await world.alice.create_gallery()
    response = await world.alice.upload(gallery["id"], b"\x89PNG" + b"0" * UPLOAD_LIMIT)
    assert response.status_code == 413
    assert response.json() == {
        "error": "payload_too_large",
        "error_description": f"The file is larger than {UPLOAD_LIMIT} bytes",
        "field": "file",
    }
    assert await image_rows(app) == 0
    assert stored_files(settings) == []


async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(world):
    gallery = await world.alice.create_gallery()
    response = await world.alice.upload(gallery["id"], b"0" * (UPLOAD_LIMIT * 2))
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_an_upload_that_fails_after_its_files_were_written_leaves_them_for_the_sweep(
    world, app, settings, monkeypatch
):
    gallery = await world.alice.create_gallery()

    async def broken_outbox(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(webhooks, "enqueue_event", broken_outbox)
    response = await world.alice.upload(gallery["id"], make_image("PNG"))
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "error_description": "The server met an unexpected error",
    }
    assert await image_rows(app) == 0
    assert len(stored_files(settings)) == 2  # nothing is removed inline
    assert await sweep_after_grace(app) == {"blobs": 2, "partials": 0, "restored": 0}
    assert stored_files(settings) == []


async def test_a_blob_shared_by_two_images_stays_until_the_last_is_deleted(world, app, settings):
    gallery = await world.alice.create_gallery()
    data = make_image("PNG")
    first = (await world.alice.upload(gallery["id"], data)).json()
    second = (await world.alice.upload(gallery["id"], data)).json()
    assert len(stored_files(settings)) == 2  # one original, one thumbnail
    assert (await world.alice.delete(f"/api/v1/images/{first['id']}")).status_code == 204
    assert await sweep_after_grace(app) == {"blobs": 0, "partials": 0, "restored": 0}
    assert len(stored_files(settings)) == 2
    assert (await world.alice.delete(f"/api/v1/images/{second['id']}")).status_code == 204
    assert len(stored_files(settings)) == 2  # until the sweep
    assert await sweep_after_grace(app) == {"blobs": 2, "partials": 0, "restored": 0}
    assert stored_files(settings) == []


async def test_deleting_a_gallery_removes_its_images_and_the_sweep_their_files(
    world, app, settings
):
    gallery = await world.alice.create_gallery()
    await world.alice.upload(gallery["id"], make_image("GIF"))
    assert (await world.alice.delete(f"/api/v1/galleries/{gallery['id']}")).status_code == 204
    assert await image_rows(app) == 0
    assert await sweep_after_grace(app) == {"blobs": 2, "partials": 0, "restored": 0}
    assert stored_files(settings) == []


async def test_the_cover_image_must_belong_to_the_gallery(world):
    first = await world.alice.create_gallery("One")
    second = await world.alice.create_gallery("Two")
    image = (await world.alice.upload(first["id"], make_image("PNG"))).json()
    wrong = await world.alice.patch(
        f"/api/v1/galleries/{second['id']}", json={"cover_image_id": image["id"]}
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "cover_image_id"
    right = await world.alice.patch(
        f"/api/v1/galleries/{first['id']}", json={"cover_image_id": image["id"]}
    )
    assert right.json()["cover_image_id"] == image["id"]
    await world.alice.delete(f"/api/v1/images/{image['id']}")
    after = await world.alice.get(f"/api/v1/galleries/{first['id']}")
    assert after.json()["cover_image_id"] is None
    assert after.json()["image_count"] == 0
