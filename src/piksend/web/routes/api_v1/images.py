"""/api/v1 images: list and upload a gallery's images; read, retitle, delete and download one.

The upload's multipart body is parsed here so an oversize body is a 413, not a parse error.
Another user's image is reported as 404 (never 403, which would say it exists).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from piksend.errors import DomainError, PayloadTooLarge
from piksend.gallery import images
from piksend.gallery.images import IMAGE_TYPES, ImageMime, ImageView, Variant
from piksend.gallery.pagination import DEFAULT_LIMIT
from piksend.web import rate_limits
from piksend.web.blob_response import blob_response
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

router = APIRouter(tags=["images"])


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
    title: str = omittable(max_length=200)


def image_body(public_url: str, view: ImageView) -> ImageOut:
    base = f"{public_url}/api/v1/images/{view.id}/content"
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


def image_out(request: Request, view: ImageView) -> ImageOut:
    return image_body(ctx(request).settings.public_url, view)


@operation(
    router.get,
    "/galleries/{gallery_id}/images",
    scoped("images:read", 404),
    summary="List a gallery's images",
)
async def list_images(
    request: Request,
    gallery_id: Id,
    call: ApiCall,
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


@operation(
    router.post,
    "/galleries/{gallery_id}/images",
    scoped("images:write", 404, 409, 413, 422),
    status_code=201,
    summary="Upload an image",
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_image(request: Request, gallery_id: Id, call: ApiCall) -> ImageOut:
    c = ctx(request)
    data, filename, title = await _read_upload(request, c.settings.max_upload_bytes)
    view = await images.upload_image(
        call.session,
        blobs=c.blobs,
        decoder=c.decoder,
        owner_id=call.user_id,
        gallery_id=gallery_id,
        data=data,
        filename=filename,
        title=title,
        now=c.now(),
        quota=rate_limits.upload_quota(c.settings),
    )
    return image_out(request, view)


@operation(
    router.get, "/images/{image_id}", scoped("images:read", 404), summary="Get an image's details"
)
async def get_image(request: Request, image_id: Id, call: ApiCall) -> ImageOut:
    return image_out(
        request, await images.get_image(call.session, owner_id=call.user_id, image_id=image_id)
    )


@operation(
    router.patch,
    "/images/{image_id}",
    scoped("images:write", 404),
    summary="Change an image's title",
)
async def update_image(request: Request, image_id: Id, body: ImagePatch, call: ApiCall) -> ImageOut:
    view = await images.update_image(
        call.session,
        owner_id=call.user_id,
        image_id=image_id,
        changes=body.model_dump(exclude_unset=True),
        now=ctx(request).now(),
    )
    return image_out(request, view)


@operation(
    router.delete,
    "/images/{image_id}",
    scoped("images:write", 404),
    status_code=204,
    summary="Delete an image",
    response_class=Response,
)
async def delete_image(request: Request, image_id: Id, call: ApiCall) -> Response:
    c = ctx(request)
    await images.delete_image(call.session, owner_id=call.user_id, image_id=image_id, now=c.now())
    return Response(status_code=204)


@operation(
    router.get,
    "/images/{image_id}/content",
    scoped("images:read", 404),
    summary="Download an image or its thumbnail",
    response_class=Response,
    responses={
        200: {
            "description": "The image's bytes, with its real type",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES},
        }
    },
)
async def image_content(
    request: Request, image_id: Id, call: ApiCall, variant: Variant = "original"
) -> Response:
    image = await images.get_image(call.session, owner_id=call.user_id, image_id=image_id)
    stream, mime = await images.open_variant(ctx(request).blobs, image, variant=variant)
    headers = {"cache-control": "private, max-age=0", "x-content-type-options": "nosniff"}
    if variant == "original":
        headers["content-disposition"] = f'attachment; filename="{image.filename}"'
    return blob_response(stream, mime, headers)
