"""/api/v1/galleries: list, create, read, change and delete the user's galleries.

Another user's gallery is reported as 404 (never 403, which would say it exists).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from piksend.gallery import galleries
from piksend.gallery.galleries import DESCRIPTION_MAX, TITLE_MAX, GalleryView, Visibility
from piksend.gallery.pagination import DEFAULT_LIMIT
from piksend.web.context import ctx
from piksend.web.routes.api_v1.common import (
    ApiCall,
    Cursor,
    Id,
    Limit,
    Strict,
    omittable,
    operation,
    scoped,
)

router = APIRouter(tags=["galleries"])

VisibilityName = Literal["private", "unlisted", "public"]


_KEEP_LOCATION = (
    "Whether uploads keep their EXIF GPS location; false (the default) removes it from the "
    "stored original, changing no pixel"
)


class GalleryOut(BaseModel):
    id: str
    title: str
    description: str
    visibility: VisibilityName
    cover_image_id: str | None
    image_count: int
    share_url: str | None = Field(description="The public page; null while private")
    keep_location: bool = Field(description=_KEEP_LOCATION)
    created_at: datetime
    updated_at: datetime


class GalleryList(BaseModel):
    data: list[GalleryOut]
    next_cursor: str | None


class GalleryCreate(Strict):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    visibility: VisibilityName = "private"
    keep_location: bool = Field(default=False, description=_KEEP_LOCATION)


class GalleryPatch(Strict):
    title: str = omittable(min_length=1, max_length=TITLE_MAX)
    description: str = omittable(max_length=DESCRIPTION_MAX)
    visibility: VisibilityName = omittable()
    cover_image_id: str | None = Field(
        default=None, max_length=40, description="An image of this gallery, or null for none"
    )
    keep_location: bool = omittable(description=_KEEP_LOCATION)


def gallery_body(public_url: str, view: GalleryView) -> GalleryOut:
    path = view.share_path()
    return GalleryOut(
        id=view.id,
        title=view.title,
        description=view.description,
        visibility=view.visibility.value,
        cover_image_id=view.cover_image_id,
        image_count=view.image_count,
        share_url=f"{public_url}{path}" if path else None,
        keep_location=view.keep_location,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def gallery_out(request: Request, view: GalleryView) -> GalleryOut:
    return gallery_body(ctx(request).settings.public_url, view)


@operation(router.get, "/galleries", scoped("galleries:read"), summary="List the user's galleries")
async def list_galleries(
    request: Request, call: ApiCall, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> GalleryList:
    page = await galleries.list_galleries(
        call.session, owner_id=call.user_id, cursor=cursor, limit=limit
    )
    return GalleryList(
        data=[gallery_out(request, v) for v in page.items], next_cursor=page.next_cursor
    )


@operation(
    router.post,
    "/galleries",
    scoped("galleries:write"),
    status_code=201,
    summary="Create a gallery",
)
async def create_gallery(request: Request, body: GalleryCreate, call: ApiCall) -> GalleryOut:
    c = ctx(request)
    view = await galleries.create_gallery(
        call.session,
        owner_id=call.user_id,
        title=body.title,
        description=body.description,
        visibility=Visibility(body.visibility),
        public_url=c.settings.public_url,
        now=c.now(),
        keep_location=body.keep_location,
    )
    return gallery_out(request, view)


@operation(
    router.get, "/galleries/{gallery_id}", scoped("galleries:read", 404), summary="Get a gallery"
)
async def get_gallery(request: Request, gallery_id: Id, call: ApiCall) -> GalleryOut:
    view = await galleries.get_gallery(call.session, owner_id=call.user_id, gallery_id=gallery_id)
    return gallery_out(request, view)


@operation(
    router.patch,
    "/galleries/{gallery_id}",
    scoped("galleries:write", 404, 422),
    summary="Change a gallery",
)
async def update_gallery(
    request: Request, gallery_id: Id, body: GalleryPatch, call: ApiCall
) -> GalleryOut:
    c = ctx(request)
    view = await galleries.update_gallery(
        call.session,
        owner_id=call.user_id,
        gallery_id=gallery_id,
        changes=body.model_dump(exclude_unset=True),
        public_url=c.settings.public_url,
        now=c.now(),
    )
    return gallery_out(request, view)


@operation(
    router.delete,
    "/galleries/{gallery_id}",
    scoped("galleries:write", 404),
    status_code=204,
    summary="Delete a gallery and its images",
    response_class=Response,
)
async def delete_gallery(request: Request, gallery_id: Id, call: ApiCall) -> Response:
    c = ctx(request)
    await galleries.delete_gallery(
        call.session, owner_id=call.user_id, gallery_id=gallery_id, now=c.now()
    )
    return Response(status_code=204)
