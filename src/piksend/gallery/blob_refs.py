"""Blob reference counting: a content-addressed blob may be shared by several image rows, so
it is removed only when no row references it any more."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.gallery.blobs import BlobStore
from piksend.storage.tables import gallery as g


async def unreferenced(session: AsyncSession, key: str) -> bool:
    count = await session.scalar(
        select(func.count())
        .select_from(g.Image)
        .where(or_(g.Image.blob_key == key, g.Image.thumbnail_key == key))
    )
    return count == 0


async def collect_blobs(session: AsyncSession, blobs: BlobStore, keys: list[str]) -> None:
    """Remove those of ``keys`` that no image row references."""
    for key in keys:
        if await unreferenced(session, key):
            await asyncio.to_thread(blobs.delete, key)
