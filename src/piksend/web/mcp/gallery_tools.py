"""MCP tools over the user's galleries: the same services and scopes as /api/v1/galleries."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from piksend.gallery import galleries
from piksend.gallery.galleries import Visibility
from piksend.gallery.pagination import DEFAULT_LIMIT, MAX_LIMIT
from piksend.web.mcp.toolbox import Toolbox
from piksend.web.routes.api_v1.galleries import (
    GalleryList,
    GalleryOut,
    VisibilityName,
    gallery_body,
)

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size")]
Cursor = Annotated[
    str | None, Field(max_length=512, description="next_cursor of the previous page")
]
GalleryId = Annotated[str, Field(min_length=1, max_length=40, description="The gallery's id")]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]


class Deleted(BaseModel):
    id: str
    deleted: bool


def register(box: Toolbox) -> None:
    @box.tool("galleries:read", title="List galleries", read_only=True)
    async def list_galleries(
        ctx: Context[Any], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> GalleryList:
        """List the user's PikSend galleries, newest first, one page at a time."""
        async with box.call(ctx, "list_galleries") as call:
            page = await galleries.list_galleries(
                call.session, owner_id=call.user_id, cursor=cursor, limit=limit
            )
        return GalleryList(
            data=[gallery_body(box.public_url, v) for v in page.items],
            next_cursor=page.next_cursor,
        )

    @box.tool("galleries:read", title="Get a gallery", read_only=True)
    async def get_gallery(ctx: Context[Any], gallery_id: GalleryId) -> GalleryOut:
        """One of the user's galleries: its title, description, visibility and image count."""
        async with box.call(ctx, "get_gallery") as call:
            view = await galleries.get_gallery(
                call.session, owner_id=call.user_id, gallery_id=gallery_id
            )
        return gallery_body(box.public_url, view)

    @box.tool("galleries:write", title="Create a gallery", read_only=False)
    async def create_gallery(
        ctx: Context[Any],
        title: Title,
        description: Description = "",
        visibility: VisibilityName = "private",
    ) -> GalleryOut:
        """Create a gallery for the user; private unless visibility says otherwise."""
        async with box.call(ctx, "create_gallery") as call:
            view = await galleries.create_gallery(
                call.session,
                owner_id=call.user_id,
                title=title,
                description=description,
                visibility=Visibility(visibility),
                public_url=box.public_url,
                now=box.context.now(),
            )
        return gallery_body(box.public_url, view)

    @box.tool("galleries:write", title="Change a gallery", read_only=False)
    async def update_gallery(
        ctx: Context[Any],
        gallery_id: GalleryId,
        title: Title | None = None,
        description: Description | None = None,
        visibility: VisibilityName | None = None,
        cover_image_id: Annotated[str | None, Field(max_length=40)] = None,
        clear_cover_image: bool = False,
    ) -> GalleryOut:
        """Change a gallery's title, description, visibility or cover image; fields left out
        stay as they are (clear_cover_image removes the cover)."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("title", title),
                ("description", description),
                ("visibility", visibility),
                ("cover_image_id", cover_image_id),
            )
            if value is not None
        }
        if clear_cover_image:
            changes["cover_image_id"] = None
        async with box.call(ctx, "update_gallery") as call:
            view = await galleries.update_gallery(
                call.session,
                owner_id=call.user_id,
                gallery_id=gallery_id,
                changes=changes,
                public_url=box.public_url,
                now=box.context.now(),
            )
        return gallery_body(box.public_url, view)

    @box.tool("galleries:write", title="Delete a gallery", read_only=False, destructive=True)
    async def delete_gallery(ctx: Context[Any], gallery_id: GalleryId) -> Deleted:
        """Delete a gallery and every image in it. This cannot be undone."""
        async with box.call(ctx, "delete_gallery") as call:
            await galleries.delete_gallery(
                call.session, owner_id=call.user_id, gallery_id=gallery_id, now=box.context.now()
            )
        return Deleted(id=gallery_id, deleted=True)
