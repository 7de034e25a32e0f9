"""The blob sweep: the only code that removes an image's file (issue 10, item 4).

Blobs are content-addressed and shared, so counting references when a row is deleted loses
data: an upload of the same bytes elsewhere may have found the file present, skipped writing
it, and not committed its row yet. Instead a file's life is decided here alone, when *both*
hold: no image row refers to it, and it has not been written or re-``put`` for ``grace``
seconds (an upload writes its file before its row commits, and commits well within that).

The window between checking and unlinking is closed by renaming the file aside first
(``BlobStore.retire``; on S3 a copy aside then a delete, see ``blobs/s3.py``): a ``put``
after the rename writes a fresh copy; a ``put`` just
before it refreshed the modification time, which the renamed file still carries, so it is
restored; and the rows are looked up once more before the file is finally removed. A file
left retired by a crash in between is settled by a later round the same way.

Each round walks the store (shard directories, or the bucket's listing) from where the last
one stopped, looks at no more than ``batch * max_batches`` files, and queries the rows one
batch at a time. Several nodes may sweep the same store: a retire that loses the race finds
no blob and moves on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select

from piksend.gallery.blobs import BlobStore, StoredFile
from piksend.storage.engine import Database
from piksend.storage.tables import gallery as g

# A retired file older than this was left by a sweep that died before settling it.
ABANDONED_AFTER = 600.0


@dataclass(frozen=True)
class SweepPolicy:
    grace: float = 3600.0  # seconds a file stays after it was last written, referenced or not
    batch: int = 500  # files whose rows one query looks up
    max_batches: int = 20  # per round


class BlobSweeper:
    """One per process; the cursor only spreads the work over rounds (losing it is harmless)."""

    def __init__(self, db: Database, blobs: BlobStore, policy: SweepPolicy) -> None:
        self.db = db
        self.blobs = blobs
        self.policy = policy
        self._after = ""

    async def sweep(self) -> dict[str, int]:
        """One round; returns how many files were removed, by kind, and how many restored."""
        counts = {"blobs": 0, "partials": 0, "restored": 0}
        budget = self.policy.batch * self.policy.max_batches
        scan = await self.blobs.scan(after=self._after, limit=budget)
        self._after = scan.after or ""  # None: the walk reached the end, start again
        files = scan.files
        for at in range(0, len(files), self.policy.batch):
            await self._settle(files[at : at + self.policy.batch], counts)
        return counts

    async def _settle(self, files: list[StoredFile], counts: dict[str, int]) -> None:
        now = time.time()
        cutoff = now - self.policy.grace
        partials = [f for f in files if f.kind == "partial" and f.modified < cutoff]
        for stale in partials:
            await self.blobs.discard(stale)
        counts["partials"] += len(partials)
        retired = [
            f for f in files if f.kind == "retired" and (f.retired_at or 0) < now - ABANDONED_AFTER
        ]
        old = [f for f in files if f.kind == "blob" and f.modified < cutoff]
        in_use = await self._referenced(f.key for f in old)
        for blob in old:
            if blob.key in in_use:
                continue
            aside = await self.blobs.retire(blob)
            if aside is None:
                continue  # another sweeper took it, it was never there, or it was re-put
            if aside.modified >= cutoff:
                # An upload re-put these bytes between the listing and the rename.
                await self.blobs.restore(aside)
                counts["restored"] += 1
                continue
            retired.append(aside)
        # Look once more: a row that committed meanwhile keeps its file.
        in_use = await self._referenced(f.key for f in retired)
        for aside in retired:
            if aside.key in in_use or aside.modified >= cutoff:
                await self.blobs.restore(aside)
                counts["restored"] += 1
            else:
                await self.blobs.discard(aside)
                counts["blobs"] += 1

    async def _referenced(self, keys: Iterable[str | None]) -> set[str]:
        wanted = sorted({k for k in keys if k})
        if not wanted:
            return set()
        image = g.Image
        async with self.db.reader() as session:
            rows = await session.execute(
                select(image.blob_key, image.thumbnail_key).where(
                    or_(image.blob_key.in_(wanted), image.thumbnail_key.in_(wanted))
                )
            )
            return {key for pair in rows.all() for key in pair} & set(wanted)
