"""Content-addressed blob storage.

``BlobStore`` is the interface the gallery uses; ``LocalBlobStore`` keeps blobs on the
local file system. Keys are the SHA-256 hex digest of the content. The methods are
synchronous: async callers should run them in a worker thread.

Nothing here decides when a blob may go: that is :mod:`piksend.gallery.blob_sweep`, which
removes a file only when no row refers to it and it is older than a grace period. So that
an upload in flight is always inside that grace period, ``put`` of bytes already stored
refreshes the file's modification time instead of skipping it silently, and the sweep first
renames a doomed file aside (``retire``) so that a ``put`` racing it writes a fresh copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

_KEY = re.compile(r"[0-9a-f]{64}")
_SHARD = re.compile(r"[0-9a-f]{2}")
# A retired blob: ".<key>.<unix seconds when retired>.<random>.retired"
_RETIRED = re.compile(r"\.([0-9a-f]{64})\.([0-9]+)\.[0-9a-f]+\.retired")
_PARTIAL_PREFIX, _PARTIAL_SUFFIX = ".tmp-", ".part"


class BlobNotFound(LookupError):
    """No blob is stored under the requested key."""


@runtime_checkable
class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 key. Storing the same bytes again is a no-op."""
        ...

    def get(self, key: str) -> bytes:
        """Return the blob's bytes; raise ``BlobNotFound`` if there is none."""
        ...

    def open_path(self, key: str) -> Path | None:
        """Return a local file path for the blob if the store has one, else ``None``."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is 64 lowercase hex characters, else raise ``ValueError``."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("blob key must be 64 lowercase hexadecimal characters")
    return key


@dataclass(frozen=True)
class StoredFile:
    """One file of a shard directory, as the sweep sees it."""

    path: Path
    kind: str  # "blob", "partial" (an interrupted write) or "retired" (renamed aside)
    key: str | None  # the blob's key; None for a partial write
    modified: float  # st_mtime, seconds since the epoch
    retired_at: float | None = None  # when the sweep renamed it aside


class LocalBlobStore:
    """Stores each blob at ``root/ab/cd/<sha256>`` where ``abcd`` starts the key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        try:
            # Already stored: mark it as in use now, so the sweep's grace period covers this
            # upload until its row commits. A file retired meanwhile is simply written again.
            os.utime(path)
            return key
        except FileNotFoundError:
            pass
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
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def open_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    # -- for the sweep ------------------------------------------------------------------

    def shards(self, *, after: str = "") -> Iterator[tuple[str, Path]]:
        """The leaf directories ``ab/cd`` in key order, those sorting after ``after``."""
        for top in _sorted_dirs(self.root):
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
            path, name = Path(entry.path), entry.name
            if _KEY.fullmatch(name):
                found.append(StoredFile(path, "blob", name, modified))
            elif name.startswith(_PARTIAL_PREFIX) and name.endswith(_PARTIAL_SUFFIX):
                found.append(StoredFile(path, "partial", None, modified))
            elif match := _RETIRED.fullmatch(name):
                found.append(StoredFile(path, "retired", match[1], modified, float(match[2])))
        return found

    def retire(self, key: str) -> StoredFile | None:
        """Rename the blob aside, atomically; ``None`` if it is not there (any more)."""
        path = self._path(key)
        aside = path.with_name(f".{key}.{int(time.time())}.{secrets.token_hex(4)}.retired")
        try:
            os.rename(path, aside)
            modified = aside.stat().st_mtime
        except FileNotFoundError:
            return None
        return StoredFile(aside, "retired", key, modified, time.time())

    def restore(self, retired: StoredFile) -> None:
        """Put a retired blob back; if a fresh copy was written meanwhile, keep that one."""
        assert retired.key is not None
        with contextlib.suppress(FileExistsError):
            os.link(retired.path, self._path(retired.key))
        retired.path.unlink(missing_ok=True)

    @staticmethod
    def discard(stored: StoredFile) -> None:
        stored.path.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key


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
