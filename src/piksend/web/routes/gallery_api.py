"""The PikSend API: galleries, images, stats and webhooks under /api/v1.

Every operation is guarded by exactly the scope the docs name, through ``bearer(scope)``.
Objects of other users are reported as 404 (never 403, which would say they exist).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from piksend.errors import DomainError, NotFound, PayloadTooLarge
from piksend.gallery import galleries, images, stats, webhooks
from piksend.gallery.blobs import BlobNotFound
from piksend.gallery.galleries import GalleryView, Visibility
from piksend.gallery.images import ImageView
from piksend.gallery.pagination import DEFAULT_LIMIT, MAX_LIMIT
from piksend.oauth.bearer import require_scope
from piksend.storage import gallery_tables as g
from piksend.web.context import ctx
from piksend.web.routes.api import ApiCall, bearer
from piksend.web.routes.api_docs import guarded

router = APIRouter(prefix="/api/v1")

Id = Annotated[str, Path(min_length=1, max_length=40)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page")
]
VisibilityName = Literal["private", "unlisted", "public"]
EventName = Literal[
    "gallery.created", "gallery.updated", "gallery.deleted", "image.uploaded", "image.deleted"
]
ImageMime = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- galleries ------------------------------------------------------------------------------


class GalleryOut(BaseModel):
    id: str
    title: str
    description: str
    visibility: VisibilityName
    cover_image_id: str | None
    image_count: int
    share_url: str | None = Field(description="The public page; null while private")
    created_at: datetime
    updated_at: datetime


class GalleryList(BaseModel):
    data: list[GalleryOut]
    next_cursor: str | None


class GalleryCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    visibility: VisibilityName = "private"


class GalleryPatch(Strict):
    title: str = Field(default=None, min_length=1, max_length=200)
    description: str = Field(default=None, max_length=5000)
    visibility: VisibilityName = Field(default=None)
    cover_image_id: str | None = Field(
        default=None, max_length=40, description="An image of this gallery, or null for none"
    )


def gallery_out(request: Request, view: GalleryView) -> GalleryOut:
    path = view.share_path()
    return GalleryOut(
        id=view.id,
        title=view.title,
        description=view.description,
        visibility=view.visibility.value,
        cover_image_id=view.cover_image_id,
        image_count=view.image_count,
        share_url=f"{ctx(request).settings.public_url}{path}" if path else None,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


@router.get(
    "/galleries",
    summary="List the user's galleries",
    tags=["galleries"],
    **guarded("galleries:read"),
)
async def list_galleries(
    request: Request,
    call: ApiCall = Depends(bearer("galleries:read"), scope="function"),
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> GalleryList:
    page = await galleries.list_galleries(
        call.session, owner_id=call.user_id, cursor=cursor, limit=limit
    )
    return GalleryList(
        data=[gallery_out(request, v) for v in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/galleries",
    status_code=201,
    summary="Create a gallery",
    tags=["galleries"],
    **guarded("galleries:write"),
)
async def create_gallery(
    request: Request,
    body: GalleryCreate,
    call: ApiCall = Depends(bearer("galleries:write"), scope="function"),
) -> GalleryOut:
    c = ctx(request)
    view = await galleries.create_gallery(
        call.session,
        owner_id=call.user_id,
        title=body.title,
        description=body.description,
        visibility=Visibility(body.visibility),
        public_url=c.settings.public_url,
        now=c.now(),
    )
    return gallery_out(request, view)


@router.get(
    "/galleries/{gallery_id}",
    summary="Get a gallery",
    tags=["galleries"],
    **guarded("galleries:read", 404),
)
async def get_gallery(
    request: Request,
    gallery_id: Id,
    call: ApiCall = Depends(bearer("galleries:read"), scope="function"),
) -> GalleryOut:
    view = await galleries.get_gallery(call.session, owner_id=call.user_id, gallery_id=gallery_id)
    return gallery_out(request, view)


@router.patch(
    "/galleries/{gallery_id}",
    summary="Change a gallery",
    tags=["galleries"],
    **guarded("galleries:write", 404, 422),
)
async def update_gallery(
    request: Request,
    gallery_id: Id,
    body: GalleryPatch,
    call: ApiCall = Depends(bearer("galleries:write"), scope="function"),
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


@router.delete(
    "/galleries/{gallery_id}",
    status_code=204,
    summary="Delete a gallery and its images",
    tags=["galleries"],
    response_class=Response,
    **guarded("galleries:write", 404),
)
async def delete_gallery(
    request: Request,
    gallery_id: Id,
    call: ApiCall = Depends(bearer("galleries:write"), scope="function"),
) -> Response:
    c = ctx(request)
    await galleries.delete_gallery(
        call.session, blobs=c.blobs, owner_id=call.user_id, gallery_id=gallery_id, now=c.now()
    )
    return Response(status_code=204)


# -- images ---------------------------------------------------------------------------------


class ImageOut(BaseModel):
    id: str
    gallery_id: str
    title: str
    filename: str
    mime_type: ImageMime = Field(description="The real type, read from the bytes")
    width: int
    height: int
    size_bytes: int
    content_url: str
    thumbnail_url: str
    created_at: datetime
    updated_at: datetime


class ImageList(BaseModel):
    data: list[ImageOut]
    next_cursor: str | None


class ImagePatch(Strict):
    title: str = Field(default=None, max_length=200)


def image_out(request: Request, view: ImageView) -> ImageOut:
    base = f"{ctx(request).settings.public_url}/api/v1/images/{view.id}/content"
    return ImageOut(
        id=view.id,
        gallery_id=view.gallery_id,
        title=view.title,
        filename=view.filename,
        mime_type=view.mime_type,
        width=view.width,
        height=view.height,
        size_bytes=view.size_bytes,
        content_url=base,
        thumbnail_url=f"{base}?variant=thumbnail",
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


@router.get(
    "/galleries/{gallery_id}/images",
    summary="List a gallery's images",
    tags=["images"],
    **guarded("images:read", 404),
)
async def list_images(
    request: Request,
    gallery_id: Id,
    call: ApiCall = Depends(bearer("images:read"), scope="function"),
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ImageList:
    page = await images.list_images(
        call.session, owner_id=call.user_id, gallery_id=gallery_id, cursor=cursor, limit=limit
    )
    return ImageList(data=[image_out(request, v) for v in page.items], next_cursor=page.next_cursor)


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "A JPEG, PNG, GIF or WebP image; its type is read "
                        "from the bytes, not from the file name or declared type",
                    },
                    "title": {"type": "string", "maxLength": 200},
                },
            }
        }
    },
}


async def _read_upload(request: Request, limit: int) -> tuple[bytes, str | None, str]:
    """Parse the multipart body ourselves so an oversize body is a 413, not a parse error."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise DomainError("The body must be multipart/form-data with a file field")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except PayloadTooLarge:
        raise
    except Exception:
        raise DomainError("The multipart body could not be parsed") from None
    try:
        upload = form.get("file")
        title = form.get("title", "")
        if not isinstance(upload, UploadFile):
            raise DomainError("A file field is required", field="file")
        if not isinstance(title, str) or len(title) > 200:
            raise DomainError("title must be a string of at most 200 characters", field="title")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"The file is larger than {limit} bytes", field="file")
        return data, upload.filename, title
    finally:
        await form.close()


@router.post(
    "/galleries/{gallery_id}/images",
    status_code=201,
    summary="Upload an image",
    tags=["images"],
    **guarded("images:write", 404, 413, 422)
    | {
        "openapi_extra": {
            "security": [{"piksend_oauth": ["images:write"]}],
            "requestBody": _UPLOAD_BODY,
        }
    },
)
async def upload_image(
    request: Request,
    gallery_id: Id,
    call: ApiCall = Depends(bearer("images:write"), scope="function"),
) -> ImageOut:
    c = ctx(request)
    data, filename, title = await _read_upload(request, c.settings.max_upload_bytes)
    view = await images.upload_image(
        call.session,
        blobs=c.blobs,
        owner_id=call.user_id,
        gallery_id=gallery_id,
        data=data,
        filename=filename,
        title=title,
        now=c.now(),
    )
    return image_out(request, view)


@router.get(
    "/images/{image_id}",
    summary="Get an image's details",
    tags=["images"],
    **guarded("images:read", 404),
)
async def get_image(
    request: Request,
    image_id: Id,
    call: ApiCall = Depends(bearer("images:read"), scope="function"),
) -> ImageOut:
    return image_out(
        request, await images.get_image(call.session, owner_id=call.user_id, image_id=image_id)
    )


@router.patch(
    "/images/{image_id}",
    summary="Change an image's title",
    tags=["images"],
    **guarded("images:write", 404),
)
async def update_image(
    request: Request,
    image_id: Id,
    body: ImagePatch,
    call: ApiCall = Depends(bearer("images:write"), scope="function"),
) -> ImageOut:
    view = await images.update_image(
        call.session,
        owner_id=call.user_id,
        image_id=image_id,
        changes=body.model_dump(exclude_unset=True),
        now=ctx(request).now(),
    )
    return image_out(request, view)


@router.delete(
    "/images/{image_id}",
    status_code=204,
    summary="Delete an image",
    tags=["images"],
    response_class=Response,
    **guarded("images:write", 404),
)
async def delete_image(
    request: Request,
    image_id: Id,
    call: ApiCall = Depends(bearer("images:write"), scope="function"),
) -> Response:
    c = ctx(request)
    await images.delete_image(
        call.session, blobs=c.blobs, owner_id=call.user_id, image_id=image_id, now=c.now()
    )
    return Response(status_code=204)


_CONTENT = guarded("images:read", 404)
_CONTENT["responses"][200] = {
    "description": "The image's bytes, with its real type",
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES},
}


@router.get(
    "/images/{image_id}/content",
    summary="Download an image or its thumbnail",
    tags=["images"],
    response_class=Response,
    **_CONTENT,
)
async def image_content(
    request: Request,
    image_id: Id,
    call: ApiCall = Depends(bearer("images:read"), scope="function"),
    variant: Literal["original", "thumbnail"] = "original",
) -> Response:
    row = await images.owned_image(call.session, owner_id=call.user_id, image_id=image_id)
    return await blob_response(request, row, variant=variant, disposition="attachment")


async def blob_response(request: Request, row: g.Image, *, variant: str, disposition: str):
    blobs = ctx(request).blobs
    key, mime = (
        (row.thumbnail_key, row.thumbnail_mime_type)
        if variant == "thumbnail"
        else (row.blob_key, row.mime_type)
    )
    try:
        data = await images.read_blob(blobs, key)
    except BlobNotFound:
        raise NotFound("The image's file is missing") from None
    headers = {"cache-control": "private, max-age=0", "x-content-type-options": "nosniff"}
    if variant == "original":
        headers["content-disposition"] = f'{disposition}; filename="{row.filename}"'
    return Response(data, media_type=mime, headers=headers)


# -- stats ----------------------------------------------------------------------------------


class CountsOut(BaseModel):
    gallery_views: int
    image_views: int
    downloads: int


class GalleryStatsOut(CountsOut):
    gallery_id: str
    title: str


class DayStatsOut(CountsOut):
    date: date


class StatsOut(BaseModel):
    start: date
    end: date
    totals: CountsOut
    galleries: list[GalleryStatsOut] = Field(
        description="Galleries with any activity in the range, busiest first"
    )
    daily: list[DayStatsOut] = Field(description="Every day of the range, oldest first")


DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _day(value: str | None, name: str) -> date | None:
    """Only an ISO date: the lax parsing that would read ``0`` as 1970-01-01 is refused."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(f"{name} must be a date, YYYY-MM-DD", field=name) from None


def _counts(c: stats.Counts) -> dict:
    return {
        "gallery_views": c.gallery_views,
        "image_views": c.image_views,
        "downloads": c.downloads,
    }


@router.get(
    "/stats",
    summary="Views, image views and downloads of the user's galleries",
    tags=["stats"],
    **guarded("stats:read"),
)
async def get_stats(
    request: Request,
    call: ApiCall = Depends(bearer("stats:read"), scope="function"),
    start: Annotated[
        str | None,
        Query(
            pattern=DATE_PATTERN,
            description="First day (UTC, YYYY-MM-DD); default 29 days before end",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            pattern=DATE_PATTERN,
            description="Last day (UTC, YYYY-MM-DD); default today",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
) -> StatsOut:
    first, last = stats.date_range(
        _day(start, "start"), _day(end, "end"), today=ctx(request).now().date()
    )
    result = await stats.get_stats(call.session, owner_id=call.user_id, start=first, end=last)
    return StatsOut(
        start=result.start,
        end=result.end,
        totals=CountsOut(**_counts(result.totals)),
        galleries=[
            GalleryStatsOut(gallery_id=x.gallery_id, title=x.title, **_counts(x.counts))
            for x in result.galleries
        ],
        daily=[DayStatsOut(date=d.day, **_counts(d.counts)) for d in result.daily],
    )


# -- webhooks -------------------------------------------------------------------------------


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str
    events: list[EventName]
    active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only in this response.")


class WebhookList(BaseModel):
    data: list[WebhookOut]
    next_cursor: str | None


URL_PATTERN = r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[^\s#\\]*)?$"


class WebhookCreate(Strict):
    url: str = Field(min_length=1, max_length=2000, pattern=URL_PATTERN, description="An https URL")
    events: list[EventName] = Field(min_length=1, max_length=len(webhooks.EVENTS))
    description: str = Field(default="", max_length=500)


class WebhookPatch(Strict):
    url: str = Field(default=None, min_length=1, max_length=2000, pattern=URL_PATTERN)
    events: list[EventName] = Field(default=None, min_length=1, max_length=len(webhooks.EVENTS))
    description: str = Field(default=None, max_length=500)
    active: bool = Field(default=None)


class DeliveryOut(BaseModel):
    id: str = Field(description="Sent as X-PikSend-Delivery; the same on every retry")
    event: str
    status: Literal["pending", "succeeded", "failed", "cancelled"]
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None


def webhook_out(row: g.Webhook) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        description=row.description,
        events=list(row.events),
        active=row.active,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def delivery_out(row: g.WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        event=row.event,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == webhooks.PENDING else None,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


@router.get(
    "/webhooks",
    summary="List this app's webhooks for the user",
    tags=["webhooks"],
    **guarded("webhooks:read"),
)
async def list_webhooks(
    call: ApiCall = Depends(bearer("webhooks:read"), scope="function"),
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> WebhookList:
    page = await webhooks.list_webhooks(
        call.session,
        user_id=call.user_id,
        client_id=call.token.client_id,
        cursor=cursor,
        limit=limit,
    )
    return WebhookList(data=[webhook_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post(
    "/webhooks",
    status_code=201,
    summary="Register a webhook",
    tags=["webhooks"],
    **guarded("webhooks:write", 422),
)
async def create_webhook(
    request: Request,
    body: WebhookCreate,
    call: ApiCall = Depends(bearer("webhooks:write"), scope="function"),
) -> WebhookCreated:
    c = ctx(request)
    for event in body.events:
        require_scope(call.token, webhooks.EVENT_SCOPES[event])
    row, secret = await webhooks.create_webhook(
        call.session,
        user_id=call.user_id,
        client_id=call.token.client_id,
        url=body.url,
        events=list(body.events),
        description=body.description,
        allow_private=c.settings.webhooks_allow_private_targets,
        now=c.now(),
    )
    return WebhookCreated(**webhook_out(row).model_dump(), secret=secret)


@router.get(
    "/webhooks/{webhook_id}",
    summary="Get a webhook",
    tags=["webhooks"],
    **guarded("webhooks:read", 404),
)
async def get_webhook(
    webhook_id: Id, call: ApiCall = Depends(bearer("webhooks:read"), scope="function")
) -> WebhookOut:
    row = await webhooks.get_webhook(
        call.session, user_id=call.user_id, client_id=call.token.client_id, webhook_id=webhook_id
    )
    return webhook_out(row)


@router.patch(
    "/webhooks/{webhook_id}",
    summary="Change a webhook",
    tags=["webhooks"],
    **guarded("webhooks:write", 404, 422),
)
async def update_webhook(
    request: Request,
    webhook_id: Id,
    body: WebhookPatch,
    call: ApiCall = Depends(bearer("webhooks:write"), scope="function"),
) -> WebhookOut:
    c = ctx(request)
    for event in body.events or ():
        require_scope(call.token, webhooks.EVENT_SCOPES[event])
    row = await webhooks.update_webhook(
        call.session,
        user_id=call.user_id,
        client_id=call.token.client_id,
        webhook_id=webhook_id,
        changes=body.model_dump(exclude_unset=True),
        allow_private=c.settings.webhooks_allow_private_targets,
        now=c.now(),
    )
    return webhook_out(row)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    summary="Delete a webhook",
    tags=["webhooks"],
    response_class=Response,
    **guarded("webhooks:write", 404),
)
async def delete_webhook(
    webhook_id: Id, call: ApiCall = Depends(bearer("webhooks:write"), scope="function")
) -> Response:
    await webhooks.delete_webhook(
        call.session, user_id=call.user_id, client_id=call.token.client_id, webhook_id=webhook_id
    )
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="The webhook's delivery log",
    tags=["webhooks"],
    **guarded("webhooks:read", 404),
)
async def list_deliveries(
    webhook_id: Id,
    call: ApiCall = Depends(bearer("webhooks:read"), scope="function"),
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DeliveryList:
    row = await webhooks.get_webhook(
        call.session, user_id=call.user_id, client_id=call.token.client_id, webhook_id=webhook_id
    )
    page = await webhooks.list_deliveries(
        call.session, webhook_id=row.id, cursor=cursor, limit=limit
    )
    return DeliveryList(data=[delivery_out(d) for d in page.items], next_cursor=page.next_cursor)


@router.post(
    "/webhooks/{webhook_id}/test",
    status_code=202,
    summary="Send a test event",
    tags=["webhooks"],
    **guarded("webhooks:write", 404),
)
async def send_test_event(
    request: Request,
    webhook_id: Id,
    call: ApiCall = Depends(bearer("webhooks:write"), scope="function"),
) -> DeliveryOut:
    row = await webhooks.get_webhook(
        call.session, user_id=call.user_id, client_id=call.token.client_id, webhook_id=webhook_id
    )
    delivery = await webhooks.send_test_event(call.session, webhook=row, now=ctx(request).now())
    return delivery_out(delivery)
