"""Galleries: a user's titled, described collections of images, private or shared by link."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.errors import NotFound, ValidationError
from piksend.gallery import webhooks
from piksend.gallery.pagination import Page, apply_cursor, page_of
from piksend.storage.tables import gallery as g
from piksend.storage.tables import new_id

TITLE_MAX = 200
DESCRIPTION_MAX = 5000


class Visibility(StrEnum):
    PRIVATE = "private"
    UNLISTED = "unlisted"
    PUBLIC = "public"


@dataclass(frozen=True)
class GalleryView:
    id: str
    owner_id: str
    title: str
    description: str
    visibility: Visibility
    cover_image_id: str | None
    share_token: str
    image_count: int
    # Issue 15: off by default, so an upload's EXIF GPS location is removed from its original.
    keep_location: bool
    created_at: datetime
    updated_at: datetime

    @property
    def is_shared(self) -> bool:
        return self.visibility is not Visibility.PRIVATE

    def share_path(self) -> str | None:
        return f"/g/{self.share_token}" if self.is_shared else None

    def event_data(self, public_url: str) -> dict:
        path = self.share_path()
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "visibility": str(self.visibility),
            "cover_image_id": self.cover_image_id,
            "image_count": self.image_count,
            "share_url": f"{public_url}{path}" if path else None,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": self.updated_at.isoformat().replace("+00:00", "Z"),
        }


def _view(row: g.Gallery, image_count: int) -> GalleryView:
    return GalleryView(
        id=row.id,
        owner_id=row.owner_id,
        title=row.title,
        description=row.description,
        visibility=Visibility(row.visibility),
        cover_image_id=row.cover_image_id,
        share_token=row.share_token,
        image_count=image_count,
        keep_location=row.keep_location,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _image_count():
    return (
        select(func.count())
        .where(g.Image.gallery_id == g.Gallery.id)
        .correlate(g.Gallery)
        .scalar_subquery()
    )


async def owned_row(session: AsyncSession, *, owner_id: str, gallery_id: str) -> g.Gallery:
    """The gallery if ``owner_id`` owns it; another user's gallery is simply not found."""
    row = await session.get(g.Gallery, gallery_id)
    if row is None or row.owner_id != owner_id:
        raise NotFound("No such gallery")
    return row


async def count_images(session: AsyncSession, gallery_id: str) -> int:
    counted = await session.execute(
        select(func.count()).select_from(g.Image).where(g.Image.gallery_id == gallery_id)
    )
    return counted.scalar_one()


async def get_gallery(session: AsyncSession, *, owner_id: str, gallery_id: str) -> GalleryView:
    row = await owned_row(session, owner_id=owner_id, gallery_id=gallery_id)
    return _view(row, await count_images(session, row.id))


async def list_galleries(
    session: AsyncSession, *, owner_id: str, cursor: str | None, limit: int
) -> Page[GalleryView]:
    query = select(g.Gallery, _image_count()).where(g.Gallery.owner_id == owner_id)
    rows = (await session.execute(apply_cursor(query, g.Gallery, cursor, limit))).all()
    views = [_view(row, count) for row, count in rows]
    items, next_cursor = page_of(views, limit)
    return Page(items, next_cursor)


async def create_gallery(
    session: AsyncSession,
    *,
    owner_id: str,
    title: str,
    description: str,
    visibility: Visibility,
    public_url: str,
    now: datetime,
    keep_location: bool = False,
) -> GalleryView:
    row = g.Gallery(
        id=new_id("gal"),
        owner_id=owner_id,
        title=title,
        description=description,
        visibility=str(visibility),
        cover_image_id=None,
        share_token=secrets.token_urlsafe(18),
        keep_location=keep_location,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    view = _view(row, 0)
    await webhooks.enqueue_event(
        session,
        user_id=owner_id,
        event="gallery.created",
        data=view.event_data(public_url),
        now=now,
    )
    return view


async def update_gallery(
    session: AsyncSession,
    *,
    owner_id: str,
    gallery_id: str,
    changes: dict[str, Any],
    public_url: str,
    now: datetime,
) -> GalleryView:
    row = await owned_row(session, owner_id=owner_id, gallery_id=gallery_id)
    if "title" in changes:
        row.title = changes["title"]
    if "description" in changes:
        row.description = changes["description"]
    if "visibility" in changes:
        visibility = Visibility(changes["visibility"])
        if visibility is Visibility.PRIVATE and row.visibility != Visibility.PRIVATE:
            # Making a gallery private kills its link for good: sharing it again makes a new one.
            row.share_token = secrets.token_urlsafe(18)
        row.visibility = str(visibility)
    if "cover_image_id" in changes:
        cover = changes["cover_image_id"]
        if cover is not None:
            image = await session.get(g.Image, cover)
            if image is None or image.gallery_id != row.id:
                raise ValidationError(
                    "The cover image must be an image in this gallery", field="cover_image_id"
                )
        row.cover_image_id = cover
    if "keep_location" in changes:
        row.keep_location = bool(changes["keep_location"])
    row.updated_at = now
    await session.flush()
    view = _view(row, await count_images(session, row.id))
    await webhooks.enqueue_event(
        session,
        user_id=owner_id,
        event="gallery.updated",
        data=view.event_data(public_url),
        now=now,
    )
    return view


async def delete_gallery(
    session: AsyncSession, *, owner_id: str, gallery_id: str, now: datetime
) -> None:
    """Delete the gallery; its images go with it (ON DELETE CASCADE). Their files stay for
    the sweep (:mod:`piksend.gallery.blob_sweep`): the same bytes may be another row's."""
    row = await owned_row(session, owner_id=owner_id, gallery_id=gallery_id)
    await session.delete(row)
    await session.flush()
    await webhooks.enqueue_event(
        session,
        user_id=owner_id,
        event="gallery.deleted",
        data={"id": gallery_id},
        now=now,
    )


async def find_shared(session: AsyncSession, *, share_token: str) -> GalleryView | None:
    """A public or unlisted gallery by its share token; private ones are never found."""
    if not share_token or len(share_token) > 64:
        return None
    row = await session.scalar(select(g.Gallery).where(g.Gallery.share_token == share_token))
    if row is None or row.visibility == Visibility.PRIVATE:
        return None
    return _view(row, await count_images(session, row.id))
