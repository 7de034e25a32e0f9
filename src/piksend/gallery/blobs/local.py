"""The local directory store (the default): each blob at ``root/ab/cd/<sha256>``.

A blob is written to a partial file, fsynced and renamed into place, so a reader never sees
half a blob. ``put`` of bytes already stored refreshes the file's modification time instead
of skipping silently; the sweep renames a doomed file aside (``retire``), atomically, so a
``put`` racing it writes a fresh copy, and a ``put`` just before it refreshed the time the
renamed file still carries, so the sweep restores it. The file system calls run in worker
threads; a download is the file itself (the web layer sends it with ``FileResponse``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from piksend.gallery.blobs.base import (
    CHUNK,
    BlobNotFound,
    BlobStream,
    Scan,
    StoredFile,
    validate_key,
)

_KEY = re.compile(r"[0-9a-f]{64}")
_SHARD = re.compile(r"[0-9a-f]{2}")
# A retired blob: ".<key>.<unix seconds when retired>.<random>.retired"
_RETIRED = re.compile(r"\.([0-9a-f]{64})\.([0-9]+)\.[0-9a-f]+\.retired")
_PARTIAL_PREFIX, _PARTIAL_SUFFIX = ".tmp-", ".part"
_PROBE = ".piksend-probe"


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.description = f"directory {self.root}"

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self.put_sync, data)

    def put_sync(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        try:
            # Already stored: mark it as in use now, so the sweep's grace period covers this
            # upload until its row commits. A file retired meanwhile is simply written again.
            os.utime(path)
            return key
        except FileNotFoundError:
            pass
        self._write(path, data)
        return key

    async def confirm(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if not await asyncio.to_thread(path.is_file):
            await asyncio.to_thread(self._write, path, data)

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def open(self, key: str) -> BlobStream:
        path = self._path(key)
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return BlobStream(size, path, _file_chunks(path))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def check(self) -> str:
        def probe() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            target = self.root / _PROBE
            target.write_bytes(b"probe")
            target.unlink()

        await asyncio.to_thread(probe)
        return f"{self.root} takes a file"

    async def close(self) -> None:
        return None

    # -- for the sweep ------------------------------------------------------------------

    async def scan(self, *, after: str, limit: int) -> Scan:
        return await asyncio.to_thread(self._scan, after, limit)

    def _scan(self, after: str, limit: int) -> Scan:
        found: list[StoredFile] = []
        for name, leaf in self._shards(after=after):
            found.extend(self.files_in(leaf))
            if len(found) >= limit:
                return Scan(found, name)
        return Scan(found, None)

    def _shards(self, *, after: str = "") -> Iterator[tuple[str, Path]]:
        """The leaf directories ``ab/cd`` in key order, those sorting after ``after``."""
        for top in _sorted_dirs(self.root):
            if top.name < after[:2]:
                continue
            for leaf in _sorted_dirs(top):
                name = f"{top.name}/{leaf.name}"
                if name > after:
                    yield name, leaf

    def files_in(self, shard: Path) -> list[StoredFile]:
        """Every blob, partial write and retired blob of one shard directory."""
        found: list[StoredFile] = []
        try:
            entries = sorted(os.scandir(shard), key=lambda e: e.name)
        except FileNotFoundError:
            return found
        for entry in entries:
            try:
                modified = entry.stat(follow_symlinks=False).st_mtime
            except FileNotFoundError:
                continue
            name = entry.name
            if _KEY.fullmatch(name):
                found.append(StoredFile(entry.path, "blob", name, modified))
            elif name.startswith(_PARTIAL_PREFIX) and name.endswith(_PARTIAL_SUFFIX):
                found.append(StoredFile(entry.path, "partial", None, modified))
            elif match := _RETIRED.fullmatch(name):
                retired_at = float(match[2])
                found.append(StoredFile(entry.path, "retired", match[1], modified, retired_at))
        return found

    async def retire(self, stored: StoredFile) -> StoredFile | None:
        return await asyncio.to_thread(self.retire_sync, stored.key or "")

    def retire_sync(self, key: str) -> StoredFile | None:
        """Rename the blob aside, atomically; ``None`` if it is not there (any more). The
        renamed file keeps its modification time: the sweep restores one refreshed since."""
        path = self._path(key)
        aside = path.with_name(f".{key}.{int(time.time())}.{secrets.token_hex(4)}.retired")
        try:
            os.rename(path, aside)
            modified = aside.stat().st_mtime
        except FileNotFoundError:
            return None
        return StoredFile(str(aside), "retired", key, modified, time.time())

    async def restore(self, retired: StoredFile) -> None:
        await asyncio.to_thread(self._restore, retired)

    def _restore(self, retired: StoredFile) -> None:
        """Put a retired blob back; if a fresh copy was written meanwhile, keep that one."""
        assert retired.key is not None
        with contextlib.suppress(FileExistsError):
            os.link(retired.path, self._path(retired.key))
        retired.path.unlink(missing_ok=True)

    async def discard(self, stored: StoredFile) -> None:
        await asyncio.to_thread(stored.path.unlink, missing_ok=True)

    def _path(self, key: str) -> Path:
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            dir=path.parent, prefix=_PARTIAL_PREFIX, suffix=_PARTIAL_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(path.parent)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with await asyncio.to_thread(path.open, "rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk


def _sorted_dirs(parent: Path) -> list[Path]:
    try:
        entries = list(os.scandir(parent))
    except FileNotFoundError:
        return []
    return sorted(
        (
            Path(e.path)
            for e in entries
            if e.is_dir(follow_symlinks=False) and _SHARD.fullmatch(e.name)
        ),
        key=lambda p: p.name,
    )


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
