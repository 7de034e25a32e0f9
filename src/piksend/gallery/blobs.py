"""Content-addressed blob storage.

``BlobStore`` is the interface the gallery uses; ``LocalBlobStore`` keeps blobs on the
local file system. Keys are the SHA-256 hex digest of the content. The methods are
synchronous: async callers should run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

_KEY = re.compile(r"[0-9a-f]{64}")


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


class LocalBlobStore:
    """Stores each blob at ``root/ab/cd/<sha256>`` where ``abcd`` starts the key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.is_file():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
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

    def _path(self, key: str) -> Path:
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key


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
