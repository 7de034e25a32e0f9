"""Content-addressed blob storage (issue 11, item 6); the interface and the no-loss rules
are in :mod:`piksend.gallery.blobs.base`, the stores in ``local`` and ``s3``."""

from __future__ import annotations

from pathlib import Path

from piksend.gallery.blobs.base import (
    CHUNK,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    BlobStream,
    Scan,
    StoredFile,
    validate_key,
)
from piksend.gallery.blobs.local import LocalBlobStore


def open_blob_store(url: str | None, data_dir: Path) -> BlobStore:
    """The store ``PIKSEND_BLOB_URL`` names: empty for ``<data dir>/blobs``, or
    ``s3://bucket/prefix?endpoint=…&region=…``. ``ValueError`` says what is wrong."""
    if not url:
        return LocalBlobStore(data_dir / "blobs")
    if url.startswith("s3://"):
        from piksend.gallery.blobs.s3 import S3BlobStore

        return S3BlobStore.from_url(url)
    raise ValueError("PIKSEND_BLOB_URL must be empty (the data dir) or s3://bucket/prefix?…")


__all__ = [
    "CHUNK",
    "BlobNotFound",
    "BlobStore",
    "BlobStoreUnavailable",
    "BlobStream",
    "LocalBlobStore",
    "Scan",
    "StoredFile",
    "open_blob_store",
    "validate_key",
]
