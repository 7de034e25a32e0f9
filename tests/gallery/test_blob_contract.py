"""The blob store contract, on both stores: the local directory and S3 (moto's standalone
server, a real separate process speaking the protocol)."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from piksend.gallery.blobs import BlobNotFound, LocalBlobStore, open_blob_store
from piksend.gallery.blobs.s3 import S3BlobStore
from piksend.storage.unavailable import unavailable_reason
from tests.gallery.s3_support import moto_url  # noqa: F401  (a fixture)
from tests.support.live import free_port


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")


@pytest.fixture(params=["local", "s3"])
async def store(request, tmp_path):
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    moto = request.getfixturevalue("moto_url")
    bucket = f"b{os.urandom(6).hex()}"
    s3 = S3BlobStore(bucket, "piksend/blobs", endpoint=moto)
    await s3._call("create_bucket")
    yield s3
    await s3.close()


async def test_a_blob_put_is_read_back_whole_and_streamed_under_its_sha256(store):
    data = os.urandom(600_000)  # more than two chunks
    key = await store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert await store.exists(key)
    assert await store.get(key) == data
    stream = await store.open(key)
    assert stream.size == len(data)
    assert b"".join([chunk async for chunk in stream.chunks]) == data
    await stream.aclose()


async def test_a_missing_blob_is_blob_not_found(store):
    key = "0" * 64
    assert not await store.exists(key)
    with pytest.raises(BlobNotFound):
        await store.get(key)
    with pytest.raises(BlobNotFound):
        await store.open(key)


async def test_putting_stored_bytes_again_refreshes_the_time_the_sweep_looks_at(store):
    key = await store.put(b"stored long ago")
    (first,) = (await store.scan(after="", limit=10)).files
    time.sleep(1.1)  # LastModified has one-second resolution on S3
    assert await store.put(b"stored long ago") == key
    (again,) = (await store.scan(after="", limit=10)).files
    assert (again.key, again.kind) == (key, "blob")
    assert again.modified > first.modified


async def test_a_retired_blob_is_gone_until_restored_and_a_discarded_one_for_good(store):
    keep = await store.put(b"a row committed meanwhile")
    drop = await store.put(b"an orphan")
    listed = {f.key: f for f in (await store.scan(after="", limit=10)).files}
    aside_keep = await store.retire(listed[keep])
    aside_drop = await store.retire(listed[drop])
    assert aside_keep is not None and aside_drop is not None
    assert not await store.exists(keep) and not await store.exists(drop)
    kinds = sorted((f.kind, f.key) for f in (await store.scan(after="", limit=10)).files)
    assert kinds == sorted([("retired", keep), ("retired", drop)])
    await store.restore(aside_keep)
    await store.discard(aside_drop)
    assert await store.get(keep) == b"a row committed meanwhile"
    assert not await store.exists(drop)
    assert [(f.kind, f.key) for f in (await store.scan(after="", limit=10)).files] == [
        ("blob", keep)
    ]


async def test_a_blob_put_again_after_its_listing_is_not_retired(store):
    key = await store.put(b"re-put by an upload in flight")
    (listed,) = (await store.scan(after="", limit=10)).files
    time.sleep(1.1)
    await store.put(b"re-put by an upload in flight")
    # S3 leaves it (its HEAD sees the new LastModified); the local store renames it with the
    # new modification time, which tells the sweep to restore it.
    aside = await store.retire(listed)
    if aside is not None:
        assert aside.modified > listed.modified
        await store.restore(aside)
    assert await store.exists(key)


async def test_confirm_writes_a_blob_that_went_missing_and_leaves_one_that_is_there(store):
    key = await store.put(b"confirmed after commit")
    (listed,) = (await store.scan(after="", limit=10)).files
    aside = await store.retire(listed)
    assert aside is not None
    await store.confirm(key, b"confirmed after commit")
    assert await store.get(key) == b"confirmed after commit"
    await store.confirm(key, b"confirmed after commit")
    assert await store.get(key) == b"confirmed after commit"


async def test_a_scan_pages_in_key_order_and_ends(store):
    keys = sorted([await store.put(f"blob {n}".encode()) for n in range(5)])
    seen, after = [], ""
    for _ in range(10):
        page = await store.scan(after=after, limit=2)
        seen += [f.key for f in page.files]
        if page.after is None:
            break
        after = page.after
    assert seen == keys


async def test_check_says_the_store_takes_a_blob(store):
    assert await store.check()
    assert [f.key for f in (await store.scan(after="", limit=10)).files] == []


async def test_an_unreachable_s3_store_is_unavailable_with_a_reason_that_names_no_secret():
    s3 = open_blob_store(f"s3://bucket/p?endpoint=http://127.0.0.1:{free_port()}", None)  # type: ignore[arg-type]
    with pytest.raises(Exception) as raised:
        await s3.get("0" * 64)
    reason = unavailable_reason(raised.value)
    assert reason is not None and reason.startswith("blob store ")
    assert "testing" not in reason
    await s3.close()


async def test_a_missing_bucket_is_unavailable_not_a_bug(moto_url):  # noqa: F811
    s3 = S3BlobStore("no-such-bucket", endpoint=moto_url)
    with pytest.raises(Exception) as raised:
        await s3.put(b"x")
    assert unavailable_reason(raised.value) == "blob store NoSuchBucket"
    await s3.close()


@pytest.mark.parametrize(
    "url, message",
    [
        ("s3://key:secret@bucket/p", "must not carry credentials"),
        ("s3:///p", "needs a bucket"),
        ("s3://bucket/p?endpoint=ftp://x", "endpoint must be an http"),
        ("s3://bucket/p?color=red", "unknown parameter color"),
        ("gs://bucket", "must be empty"),
    ],
)
def test_a_wrong_blob_url_is_refused_with_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message):
        open_blob_store(url, None)  # type: ignore[arg-type]
