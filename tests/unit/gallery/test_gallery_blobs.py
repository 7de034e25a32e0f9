"""Tests for piksend.gallery.blobs.LocalBlobStore."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from piksend.gallery.blobs import BlobNotFound, BlobStore, LocalBlobStore
from piksend.gallery.blobs import local as blobs

_HEX64 = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_is_a_blob_store(store: LocalBlobStore) -> None:
    assert isinstance(store, BlobStore)


async def test_round_trip(store: LocalBlobStore) -> None:
    data = b"\x89PNG pretend photo bytes"

    key = await store.put(data)

    assert key == hashlib.sha256(data).hexdigest()
    assert await store.exists(key)
    assert await store.get(key) == data
    stream = await store.open(key)
    path = store.root / key[:2] / key[2:4] / key
    assert (stream.path, stream.size) == (path, len(data))
    assert b"".join([c async for c in stream.chunks]) == data


async def test_empty_blob(store: LocalBlobStore) -> None:
    key = await store.put(b"")
    assert await store.get(key) == b""


async def test_put_is_idempotent_and_does_not_rewrite(store: LocalBlobStore) -> None:
    key = await store.put(b"same bytes")
    path = (await store.open(key)).path
    assert path is not None
    inode = path.stat().st_ino

    assert await store.put(b"same bytes") == key

    assert path.stat().st_ino == inode
    assert _all_files(store.root) == [path]


async def test_distinct_content_gets_distinct_keys(store: LocalBlobStore) -> None:
    assert await store.put(b"one") != await store.put(b"two")
    assert len(_all_files(store.root)) == 2


async def test_put_leaves_no_temporary_files(store: LocalBlobStore) -> None:
    keys = {await store.put(f"photo {i}".encode()) for i in range(5)}

    files = _all_files(store.root)
    assert {f.name for f in files} == keys
    for f in files:
        assert _HEX64.fullmatch(f.name)
        assert f.relative_to(store.root).parts == (f.name[:2], f.name[2:4], f.name)


async def test_put_syncs_before_replacing(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: Path) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(blobs.os, "fsync", fsync)
    monkeypatch.setattr(blobs.os, "replace", replace)

    await store.put(b"durable")

    assert events[:2] == ["fsync", "replace"]


async def test_failed_write_leaves_nothing_behind(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: str, dst: Path) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(blobs.os, "replace", broken_replace)
    key = hashlib.sha256(b"doomed").hexdigest()

    with pytest.raises(OSError, match="disk on fire"):
        await store.put(b"doomed")

    assert not await store.exists(key)
    assert _all_files(store.root) == []


async def test_missing_blob(store: LocalBlobStore) -> None:
    key = "0" * 64

    assert not await store.exists(key)
    with pytest.raises(BlobNotFound):
        await store.get(key)
    with pytest.raises(BlobNotFound):
        await store.open(key)


@pytest.mark.parametrize(
    "key",
    [
        "../../../etc/passwd",
        "ab/../../" + "a" * 55,
        "/" + "a" * 63,
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "a" * 64 + "\n",
        "g" * 64,
        "",
    ],
    ids=[
        "dotdot",
        "dotdot-in-key",
        "absolute",
        "uppercase",
        "short",
        "long",
        "newline",
        "non-hex",
        "empty",
    ],
)
async def test_invalid_keys_are_rejected(store: LocalBlobStore, key: str) -> None:
    for operation in (store.get, store.exists, store.open):
        with pytest.raises(ValueError, match="64 lowercase hexadecimal"):
            await operation(key)


async def test_putting_bytes_already_stored_marks_the_file_as_just_used(
    store: LocalBlobStore,
) -> None:
    key = await store.put(b"stored long ago")
    path = store.root / key[:2] / key[2:4] / key
    os.utime(path, (1_000_000, 1_000_000))
    assert await store.put(b"stored long ago") == key
    assert path.stat().st_mtime > 1_000_000
    assert _all_files(store.root) == [path]


async def test_putting_bytes_whose_file_was_retired_meanwhile_writes_a_fresh_copy(
    store: LocalBlobStore,
) -> None:
    key = await store.put(b"retired by the sweep")
    retired = store.retire_sync(key)
    assert retired is not None and not await store.exists(key)
    assert await store.put(b"retired by the sweep") == key
    assert await store.get(key) == b"retired by the sweep"
    await store.restore(retired)  # a fresh copy is there: it is kept, the retired one goes
    assert _all_files(store.root) == [store.root / key[:2] / key[2:4] / key]
