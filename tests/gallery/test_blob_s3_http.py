"""Images through the HTTP API on the S3 store, and the store unreachable: 503, never 500,
and nothing recorded that has no blob."""

from __future__ import annotations

import os

import pytest

from piksend.gallery.blobs.s3 import S3BlobStore
from tests.gallery.s3_support import moto_url  # noqa: F401  (a fixture)
from tests.support.images import make_image
from tests.support.live import free_port


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")


@pytest.fixture
def settings(settings, moto_url):  # noqa: F811
    bucket = f"b{os.urandom(6).hex()}"
    return settings.with_(blob_url=f"s3://{bucket}/piksend?endpoint={moto_url}")


async def _make_bucket(app) -> None:
    await app.state.ctx.blobs._call("create_bucket")


async def test_an_image_uploaded_to_the_s3_store_is_downloaded_byte_for_byte(world, app):
    await _make_bucket(app)
    gallery = await world.alice.create_gallery()
    data = make_image("PNG")
    uploaded = await world.alice.upload(gallery["id"], data)
    assert uploaded.status_code == 201, uploaded.text
    content = await world.alice.get(f"/api/v1/images/{uploaded.json()['id']}/content")
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-length"] == str(len(data))


async def test_an_unreachable_s3_store_is_503_and_records_no_image(world, app, moto_url):  # noqa: F811
    await _make_bucket(app)
    gallery = await world.alice.create_gallery()
    kept = await world.alice.upload(gallery["id"], make_image("PNG"))
    assert kept.status_code == 201
    reachable = app.state.ctx.blobs
    app.state.ctx.blobs = S3BlobStore(
        "bucket", "piksend", endpoint=f"http://127.0.0.1:{free_port()}", timeout=2
    )
    try:
        refused = await world.alice.upload(gallery["id"], make_image("JPEG"))
        download = await world.alice.get(f"/api/v1/images/{kept.json()['id']}/content")
    finally:
        await app.state.ctx.blobs.close()
        app.state.ctx.blobs = reachable
    assert refused.status_code == 503
    assert refused.json()["error"] == "temporarily_unavailable"
    assert refused.headers["retry-after"]
    assert download.status_code == 503
    listed = await world.alice.get(f"/api/v1/galleries/{gallery['id']}/images")
    assert [i["id"] for i in listed.json()["data"]] == [kept.json()["id"]]
    again = await world.alice.get(f"/api/v1/images/{kept.json()['id']}/content")
    assert again.status_code == 200
