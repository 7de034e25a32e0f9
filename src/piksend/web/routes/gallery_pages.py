"""Gallery pages: the public page at a share link (counted once per visitor per day), and the
owner's pages (``gallery_stats``, ``gallery_owner``, ``gallery_uploads``) under one router."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from piksend.errors import NotFound
from piksend.gallery import galleries, images, stats
from piksend.gallery.galleries import Visibility
from piksend.gallery.images import ImageView
from piksend.web.auth import load_user
from piksend.web.client_address import client_address
from piksend.web.context import ctx
from piksend.web.render import page
from piksend.web.routes import gallery_owner, gallery_stats, gallery_uploads
from piksend.web.routes.gallery_blobs import blob_response

router = APIRouter(include_in_schema=False)
# The stats page before /galleries/{gallery_id}, which would match its path.
for _owner in (gallery_stats, gallery_owner, gallery_uploads):
    router.include_router(_owner.router)


def _not_found() -> NotFound:
    return NotFound("This gallery does not exist or is not shared.")


def _visitor(request: Request) -> stats.Visitor:
    return stats.Visitor(client_address(request), request.headers.get("user-agent", ""))


# -- public pages at the share link ---------------------------------------------------------


@router.get("/g/{share_token}")
async def shared_gallery(request: Request, share_token: str):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        await load_user(request, s)
        gallery = await galleries.find_shared(s, share_token=share_token)
        if gallery is None:
            raise _not_found()
        shown = await images.gallery_images(s, gallery_id=gallery.id)
        await stats.count_once(
            s,
            gallery_id=gallery.id,
            counter=stats.Counter.GALLERY_VIEW,
            viewed=gallery.id,
            visitor=_visitor(request),
            secret_key=c.settings.secret_key,
            day=c.now().date(),
        )
    headers = {}
    if gallery.visibility is Visibility.UNLISTED:
        headers["x-robots-tag"] = "noindex"
    return page(
        request,
        "gallery/shared.html",
        gallery=gallery,
        images=shown,
        base=f"/g/{share_token}",
        headers=headers,
    )


async def _shared_image(
    request: Request, share_token: str, image_id: str, counter: stats.Counter | None
) -> ImageView:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        gallery = await galleries.find_shared(s, share_token=share_token)
        if gallery is None:
            raise _not_found()
        image = await images.shared_image(s, gallery_id=gallery.id, image_id=image_id)
        if image is None:
            raise NotFound("No such image in this gallery.")
        if counter is not None:
            await stats.count_once(
                s,
                gallery_id=gallery.id,
                counter=counter,
                viewed=image.id,
                visitor=_visitor(request),
                secret_key=c.settings.secret_key,
                day=c.now().date(),
            )
    return image


@router.get("/g/{share_token}/thumbnails/{image_id}")
async def shared_thumbnail(request: Request, share_token: str, image_id: str):
    image = await _shared_image(request, share_token, image_id, None)
    return await blob_response(request, image, "thumbnail")


@router.get("/g/{share_token}/images/{image_id}")
async def shared_image_view(request: Request, share_token: str, image_id: str):
    image = await _shared_image(request, share_token, image_id, stats.Counter.IMAGE_VIEW)
    return await blob_response(request, image, "original", disposition="inline")


@router.get("/g/{share_token}/images/{image_id}/download")
async def shared_image_download(request: Request, share_token: str, image_id: str):
    image = await _shared_image(request, share_token, image_id, stats.Counter.DOWNLOAD)
    return await blob_response(request, image, "original", disposition="attachment")
