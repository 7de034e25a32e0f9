"""MCP tools over a gallery's images: the same services and scopes as /api/v1 images; an upload
comes as base64 bytes or as an https URL fetched through the SSRF-safe fetcher."""

from __future__ import annotations

import base64
import binascii
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlsplit

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from piksend.fetch.http import FetchError, fetch_url
from piksend.gallery import images
from piksend.gallery.pagination import DEFAULT_LIMIT
from piksend.web import rate_limits
from piksend.web.mcp.gallery_tools import Cursor, GalleryId, Limit
from piksend.web.mcp.toolbox import Toolbox
from piksend.web.routes.api_v1.images import ImageList, ImageOut, image_body

FETCH_TIMEOUT = 10.0  # seconds for the whole fetch of an image named by URL
ImageId = Annotated[str, Field(min_length=1, max_length=40, description="The image's id")]


def decode_upload(data_base64: str, limit: int) -> bytes:
    """The bytes of a base64 upload (RFC 4648 §4), at most ``limit`` of them."""
    if len(data_base64) > (limit + 2) // 3 * 4 + 4:
        raise ToolError(f"The image is larger than {limit} bytes")
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ToolError("data_base64 is not valid base64") from None
    if len(data) > limit:
        raise ToolError(f"The image is larger than {limit} bytes")
    return data


async def fetch_image(url: str, *, limit: int, allow_private: bool) -> bytes:
    """The bytes at ``url``, through the SSRF-safe fetcher: https only (http to a private
    address only where private targets are allowed), no redirects, at most ``limit`` bytes."""
    try:
        fetched = await fetch_url(
            url,
            max_bytes=limit,
            timeout=FETCH_TIMEOUT,
            allow_private=allow_private,
            accept="image/*",
        )
    except FetchError as error:
        raise ToolError(f"The image could not be fetched: {error.message}") from None
    if fetched.status != 200:
        raise ToolError(f"The image could not be fetched: the URL answered {fetched.status}")
    return fetched.body


def register(box: Toolbox) -> None:
    @box.tool("images:read", title="List a gallery's images", read_only=True)
    async def list_images(
        ctx: Context[Any],
        gallery_id: GalleryId,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ImageList:
        """List the images of one of the user's galleries, newest first."""
        async with box.call(ctx, "list_images") as call:
            page = await images.list_images(
                call.session,
                owner_id=call.user_id,
                gallery_id=gallery_id,
                cursor=cursor,
                limit=limit,
            )
        return ImageList(
            data=[image_body(box.public_url, v) for v in page.items], next_cursor=page.next_cursor
        )

    @box.tool("images:read", title="Get an image", read_only=True)
    async def get_image(ctx: Context[Any], image_id: ImageId) -> ImageOut:
        """One image's details: title, file name, real type, size and download URLs."""
        async with box.call(ctx, "get_image") as call:
            view = await images.get_image(call.session, owner_id=call.user_id, image_id=image_id)
        return image_body(box.public_url, view)

    @box.tool("images:write", title="Upload an image", read_only=False, open_world=True)
    async def upload_image(
        ctx: Context[Any],
        gallery_id: GalleryId,
        data_base64: Annotated[
            str | None, Field(description="The image's bytes in base64; or give url")
        ] = None,
        url: Annotated[
            str | None,
            Field(max_length=2000, description="An https URL of the image; or give data_base64"),
        ] = None,
        filename: Annotated[str | None, Field(max_length=255)] = None,
        title: Annotated[str, Field(max_length=200)] = "",
    ) -> ImageOut:
        """Upload a JPEG, PNG, GIF or WebP image to one of the user's galleries, from base64
        bytes or from an https URL; its type is read from the bytes."""
        if (data_base64 is None) == (url is None):
            raise ToolError("Give exactly one of data_base64 and url")
        limit = box.context.settings.max_upload_bytes
        if data_base64 is not None:
            data = decode_upload(data_base64, limit)
        else:
            assert url is not None
            data = await fetch_image(
                url, limit=limit, allow_private=box.context.settings.webhooks_allow_private_targets
            )
            filename = filename or PurePosixPath(urlsplit(url).path).name or None
        async with box.call(ctx, "upload_image") as call:
            view = await images.upload_image(
                call.session,
                blobs=box.context.blobs,
                decoder=box.context.decoder,
                owner_id=call.user_id,
                gallery_id=gallery_id,
                data=data,
                filename=filename,
                title=title,
                now=box.context.now(),
                quota=rate_limits.upload_quota(box.context.settings),
            )
        return image_body(box.public_url, view)
