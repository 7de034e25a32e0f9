"""Images: uploads identified from their bytes, stored by content hash, with a thumbnail.

An upload never trusts the filename or the declared content type: Pillow decodes the bytes
(:mod:`piksend.gallery.media`). Blobs are written (atomic rename) before the row commits, and
no request ever removes a file: a blob shared by content may be about to be referenced by an
upload that has not committed yet. Files nothing refers to any more, including those of a
failed upload, are left to the sweep (:mod:`piksend.gallery.blob_sweep`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.errors import NotFound, ValidationError
from piksend.gallery import exif, media, webhooks
from piksend.gallery.blobs import BlobNotFound, BlobStore, BlobStream
from piksend.gallery.galleries import owned_row
from piksend.gallery.pagination import Page, apply_cursor, page_of
from piksend.gallery.upload_quota import UploadQuota, check_upload_quota
from piksend.storage.tables import gallery as g
from piksend.storage.tables import new_id

THUMBNAIL_SIZE = 320
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")

ImageMime = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
IMAGE_TYPES: tuple[ImageMime, ...] = get_args(ImageMime)
Variant = Literal["original", "thumbnail"]


@dataclass(frozen=True)
class ImageView:
    id: str
    gallery_id: str
    title: str
    filename: str
    mime_type: ImageMime
    width: int
    height: int
    size_bytes: int
    blob_key: str
    thumbnail_key: str
    thumbnail_mime_type: str
    created_at: datetime
    updated_at: datetime

    def event_data(self) -> dict:
        return {
            "id": self.id,
            "gallery_id": self.gallery_id,
            "title": self.title,
            "filename": self.filename,
            "mime_type": self.mime_type,
            "width": self.width,
            "height": self.height,
            "size_bytes": self.size_bytes,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


def _view(row: g.Image) -> ImageView:
    return ImageView(
        id=row.id,
        gallery_id=row.gallery_id,
        title=row.title,
        filename=row.filename,
        # The column holds only what media.inspect_image read from the bytes.
        mime_type=cast(ImageMime, row.mime_type),
        width=row.width,
        height=row.height,
        size_bytes=row.size_bytes,
        blob_key=row.blob_key,
        thumbnail_key=row.thumbnail_key,
        thumbnail_mime_type=row.thumbnail_mime_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def clean_filename(name: str | None, extension: str) -> str:
    """A display name: no directories, only safe characters, and the real extension."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE_NAME.sub("_", stem).strip(" .")[:200] or "image"
    return f"{stem}.{extension}"


async def _owned_image(session: AsyncSession, *, owner_id: str, image_id: str) -> g.Image:
    row = await session.get(g.Image, image_id)
    if row is None or row.owner_id != owner_id:
        raise NotFound("No such image")
    return row


async def get_image(session: AsyncSession, *, owner_id: str, image_id: str) -> ImageView:
    return _view(await _owned_image(session, owner_id=owner_id, image_id=image_id))


async def list_images(
    session: AsyncSession, *, owner_id: str, gallery_id: str, cursor: str | None, limit: int
) -> Page[ImageView]:
    await owned_row(session, owner_id=owner_id, gallery_id=gallery_id)
    query = select(g.Image).where(g.Image.gallery_id == gallery_id)
    rows = list((await session.scalars(apply_cursor(query, g.Image, cursor, limit))).all())
    items, next_cursor = page_of(rows, limit)
    return Page([_view(r) for r in items], next_cursor)


async def upload_image(
    session: AsyncSession,
    *,
    blobs: BlobStore,
    decoder: media.Decoder,
    owner_id: str,
    gallery_id: str,
    data: bytes,
    filename: str | None,
    title: str,
    now: datetime,
    quota: UploadQuota | None = None,
) -> ImageView:
    """Inspect, store and record an upload, and commit it: a 201 means the row is durable.

    The bytes are decoded once, by ``decoder`` (a bounded number at once per process); the
    original is stored without its EXIF location unless the gallery keeps it
    (:mod:`piksend.gallery.exif`: only the EXIF block's bytes change, never the pixels).

    The gallery is checked first (no file is written for an unknown one), then touched by one
    conditional UPDATE in the upload's transaction: a gallery deleted meanwhile matches no row
    and the upload answers 404, never a stale-row error; on PostgreSQL the row lock it takes
    makes a concurrent delete wait for this commit and then cascade to the new image. The
    files already written then belong to no row and are swept later.
    """
    gallery = await owned_row(session, owner_id=owner_id, gallery_id=gallery_id)
    keep_location = gallery.keep_location
    if quota is not None:  # issue 15: before any decoding or file (gallery/upload_quota.py)
        await check_upload_quota(session, owner_id=owner_id, size=len(data), quota=quota, now=now)
    try:
        prepared = await decoder.prepare(data, size=THUMBNAIL_SIZE)
        if not keep_location:
            data = await asyncio.to_thread(exif.strip_location, data)
    except (media.UnsupportedImage, exif.MalformedExif) as exc:
        raise ValidationError(exc.message, field="file") from None
    info, thumbnail = prepared.info, prepared.thumbnail
    thumb_mime = prepared.thumbnail_mime_type
    blob_key = await blobs.put(data)
    thumbnail_key = await blobs.put(thumbnail)
    touched = await session.execute(
        update(g.Gallery)
        .where(g.Gallery.id == gallery_id, g.Gallery.owner_id == owner_id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], touched).rowcount != 1:  # an UPDATE's result
        raise NotFound("No such gallery")
    row = g.Image(
        id=new_id("img"),
        gallery_id=gallery_id,
        owner_id=owner_id,
        title=title,
        filename=clean_filename(filename, info.extension),
        mime_type=info.mime_type,
        width=info.width,
        height=info.height,
        size_bytes=len(data),
        blob_key=blob_key,
        thumbnail_key=thumbnail_key,
        thumbnail_mime_type=thumb_mime,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    view = _view(row)
    await webhooks.enqueue_event(
        session, user_id=owner_id, event="image.uploaded", data=view.event_data(), now=now
    )
    await session.commit()
    # The row is durable: a blob the sweep took in the instant between its two looks at the
    # rows is written again from these bytes (gallery/blobs/s3.py says why it can happen).
    await blobs.confirm(blob_key, data)
    await blobs.confirm(thumbnail_key, thumbnail)
    return view


async def update_image(
    session: AsyncSession, *, owner_id: str, image_id: str, changes: dict[str, Any], now: datetime
) -> ImageView:
    row = await _owned_image(session, owner_id=owner_id, image_id=image_id)
    if "title" in changes:
        row.title = changes["title"]
    row.updated_at = now
    await session.flush()
    return _view(row)


async def delete_image(
    session: AsyncSession, *, owner_id: str, image_id: str, now: datetime
) -> None:
    """Delete the row (and the gallery's cover, if it was this image). Its files stay: the
    same bytes may be another row's, or an uncommitted upload's; the sweep decides."""
    row = await _owned_image(session, owner_id=owner_id, image_id=image_id)
    data = _view(row).event_data()
    # One conditional UPDATE, not a loaded row: a gallery deleted meanwhile matches nothing.
    await session.execute(
        update(g.Gallery)
        .where(g.Gallery.id == row.gallery_id, g.Gallery.cover_image_id == row.id)
        .values(cover_image_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(row)
    await session.flush()
    await webhooks.enqueue_event(
        session, user_id=owner_id, event="image.deleted", data=data, now=now
    )


def _variant_key(image: ImageView, variant: Variant) -> tuple[str, str]:
    if variant == "thumbnail":
        return image.thumbnail_key, image.thumbnail_mime_type
    return image.blob_key, image.mime_type


async def read_variant(
    blobs: BlobStore, image: ImageView, *, variant: Variant
) -> tuple[bytes, str]:
    """The bytes and the type of the image or of its thumbnail; NotFound if the file is gone."""
    key, mime = _variant_key(image, variant)
    try:
        data = await blobs.get(key)
    except BlobNotFound:
        raise NotFound("The image's file is missing") from None
    return data, mime


async def open_variant(
    blobs: BlobStore, image: ImageView, *, variant: Variant
) -> tuple[BlobStream, str]:
    """The image or its thumbnail opened for streaming, and its type; NotFound if the file
    is gone. A store that cannot be reached raises before any byte is sent (503)."""
    key, mime = _variant_key(image, variant)
    try:
        stream = await blobs.open(key)
    except BlobNotFound:
        raise NotFound("The image's file is missing") from None
    return stream, mime


async def shared_image(
    session: AsyncSession, *, gallery_id: str, image_id: str
) -> ImageView | None:
    row = await session.get(g.Image, image_id)
    if row is None or row.gallery_id != gallery_id:
        return None
    return _view(row)


async def gallery_images(
    session: AsyncSession, *, gallery_id: str, limit: int = 500
) -> list[ImageView]:
    """The newest images of a gallery, for pages that show thumbnails."""
    rows = await session.scalars(
        select(g.Image)
        .where(g.Image.gallery_id == gallery_id)
        .order_by(g.Image.created_at.desc(), g.Image.id.desc())
        .limit(limit)
    )
    return [_view(row) for row in rows.all()]
