"""Content-addressed blob storage: the interface and its types (issue 11, item 6: blobs for several machines).

``BlobStore`` is the interface the gallery uses; keys are the SHA-256 hex digest of the
content. Two stores implement it: ``LocalBlobStore`` (a directory, the default) and
``S3BlobStore`` (an S3-compatible object store shared by every node, ``PIKSEND_BLOB_URL``).
Uploads are size-limited and decoded in memory, so ``put`` takes bytes; downloads stream
(``open``: a local file path, or the object's body in chunks).

Nothing here decides when a blob may go: that is :mod:`piksend.gallery.blob_sweep`, which
removes a blob only when no row refers to it and it is older than a grace period. The
no-loss rules every store keeps (issue 10, item 4):

- ``put`` of bytes already stored refreshes what the sweep looks at (a file's modification
  time, an object's LastModified), so an upload in flight is inside the grace period;
- the sweep retires a doomed blob aside before removing it and looks at the rows once more,
  restoring it if a row committed meanwhile;
- after its row commits, an upload ``confirm``s each blob: one the sweep took in the
  instant between its checks is written again from the upload's bytes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from piksend.storage.unavailable import Unavailable

_KEY = re.compile(r"[0-9a-f]{64}")
CHUNK = 256 * 1024


class BlobNotFound(LookupError):
    """No blob is stored under the requested key."""


class BlobStoreUnavailable(Unavailable):
    """The blob store cannot be reached or refuses us for now: answered 503, never 500.
    ``reason`` names the failure class only (no credentials, no URL, no server text)."""


def validate_key(key: str) -> str:
    """Return ``key`` if it is 64 lowercase hex characters, else raise ``ValueError``."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("blob key must be 64 lowercase hexadecimal characters")
    return key


@dataclass(frozen=True)
class StoredFile:
    """One stored item, as the sweep sees it."""

    ref: str  # where it is: a file path, or an object key
    kind: str  # "blob", "partial" (an interrupted write) or "retired" (moved aside)
    key: str | None  # the blob's key; None for a partial write
    modified: float  # mtime or LastModified, seconds since the epoch
    retired_at: float | None = None  # when the sweep moved it aside

    @property
    def path(self) -> Path:
        return Path(self.ref)


@dataclass
class BlobStream:
    """An opened blob: its size, and either a local file or the body's chunks."""

    size: int
    path: Path | None
    chunks: AsyncIterator[bytes]

    async def aclose(self) -> None:
        closer = getattr(self.chunks, "aclose", None)
        if closer is not None:
            await closer()


@dataclass(frozen=True)
class Scan:
    """One page of the sweep's walk: what it found, and where the next page starts
    (``None``: the walk reached the end)."""

    files: list[StoredFile]
    after: str | None


@runtime_checkable
class BlobStore(Protocol):
    description: str  # where the blobs are, for logs and doctor (never a credential)

    async def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 key. Storing the same bytes again refreshes
        the blob's time, so the sweep's grace period covers the upload doing it."""
        ...

    async def confirm(self, key: str, data: bytes) -> None:
        """After a row referring to ``key`` committed: write it again if it is not there."""
        ...

    async def get(self, key: str) -> bytes:
        """Return the blob's bytes; raise ``BlobNotFound`` if there is none."""
        ...

    async def open(self, key: str) -> BlobStream:
        """Open the blob for streaming; raise ``BlobNotFound`` if there is none."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def check(self) -> str:
        """Reachable, there and writable: a probe object written, read back and removed.
        Returns what was checked; raises ``BlobStoreUnavailable`` or ``OSError``."""
        ...

    async def close(self) -> None: ...

    # -- for the sweep ------------------------------------------------------------------

    async def scan(self, *, after: str, limit: int) -> Scan:
        """About ``limit`` stored items in key order, starting after ``after``."""
        ...

    async def retire(self, stored: StoredFile) -> StoredFile | None:
        """Move a listed blob aside; ``None`` if it is gone or was written again since."""
        ...

    async def restore(self, retired: StoredFile) -> None:
        """Put a retired blob back (a fresh copy written meanwhile is the same bytes)."""
        ...

    async def discard(self, stored: StoredFile) -> None: ...
