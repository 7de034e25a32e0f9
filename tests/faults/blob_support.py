"""The blob census of issue 10, item 4: every row's file exists, and after a sweep no file is
left that no row refers to. Shared by the race tests and the gallery's own tests."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from piksend.gallery.blob_sweep import BlobSweeper, SweepPolicy
from piksend.gallery.blobs import validate_key
from piksend.storage.engine import Database
from piksend.storage.tables import gallery as g

GRACE = 3600.0


def blob_root(data_dir: Path) -> Path:
    return data_dir / "blobs"


def stored_keys(data_dir: Path) -> set[str]:
    """The keys of the blob files on disk (not partial writes, not retired files)."""
    root = blob_root(data_dir)
    if not root.exists():
        return set()
    keys = set()
    for path in root.rglob("*"):
        try:
            keys.add(validate_key(path.name))
        except ValueError:
            continue
    return keys


def every_file(data_dir: Path) -> list[str]:
    root = blob_root(data_dir)
    if not root.exists():
        return []
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def age_files(data_dir: Path, seconds: float) -> None:
    """Make every file under the blob root look ``seconds`` older than now."""
    then = time.time() - seconds
    root = blob_root(data_dir)
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file():
                os.utime(path, (then, then))


async def referenced_keys(db: Database) -> set[str]:
    async with db.reader() as session:
        rows = (await session.execute(select(g.Image.blob_key, g.Image.thumbnail_key))).all()
    return {key for pair in rows for key in pair}


@dataclass(frozen=True)
class Census:
    lost: frozenset[str]  # referenced by a row, no file
    orphans: frozenset[str]  # a file, no row


async def census(db: Database, data_dir: Path) -> Census:
    referenced, stored = await referenced_keys(db), stored_keys(data_dir)
    return Census(frozenset(referenced - stored), frozenset(stored - referenced))


async def sweep_after_grace(app) -> dict[str, int]:
    """Age every file past the grace period, then run one full sweep of the app's store."""
    ctx = app.state.ctx
    age_files(ctx.settings.data_dir, GRACE + 60)
    sweeper = BlobSweeper(ctx.db, ctx.blobs, SweepPolicy(grace=GRACE))
    return await sweeper.sweep()
