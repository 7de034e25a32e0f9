"""Gallery pages: the public page at a share link (counted once per visitor per day), and the
owner's own view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from piksend.errors import NotFound
from piksend.gallery import galleries, images, stats
from piksend.gallery.galleries import GalleryView, Visibility
from piksend.gallery.images import ImageView, Variant
from piksend.web.auth import load_user, login_redirect
from piksend.web.client_address import client_address
from piksend.web.context import ctx
from piksend.web.render import page

router = APIRouter(include_in_schema=False)


def _not_found() -> NotFound:
    return NotFound("This gallery does not exist or is not shared.")


def _visitor(request: Request) -> stats.Visitor:
    return stats.Visitor(client_address(request), request.headers.get("user-agent", ""))


async def _blob(
    request: Request, image: ImageView, variant: Variant, *, disposition: str | None = None
) -> Response:
    data, mime = await images.read_variant(ctx(request).blobs, image, variant=variant)
    headers = {"cache-control": "private, max-age=0"}
    if disposition:
        headers["content-disposition"] = f'{disposition}; filename="{image.filename}"'
    return Response(data, media_type=mime, headers=headers)


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
    return await _blob(request, image, "thumbnail")


@router.get("/g/{share_token}/images/{image_id}")
async def shared_image_view(request: Request, share_token: str, image_id: str):
    image = await _shared_image(request, share_token, image_id, stats.Counter.IMAGE_VIEW)
    return await _blob(request, image, "original", disposition="inline")


@router.get("/g/{share_token}/images/{image_id}/download")
async def shared_image_download(request: Request, share_token: str, image_id: str):
    image = await _shared_image(request, share_token, image_id, stats.Counter.DOWNLOAD)
    return await _blob(request, image, "original", disposition="attachment")


# -- the owner's own view -------------------------------------------------------------------


@dataclass(frozen=True)
class GalleryCard:
    gallery: GalleryView
    cover_id: str | None


@router.get("/galleries")
async def my_galleries(request: Request, cursor: str | None = None):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        listing = await galleries.list_galleries(s, owner_id=user.id, cursor=cursor, limit=48)
        cards = []
        for view in listing.items:
            cover = view.cover_image_id
            if cover is None:
                newest = await images.gallery_images(s, gallery_id=view.id, limit=1)
                cover = newest[0].id if newest else None
            cards.append(GalleryCard(view, cover))
    return page(
        request,
        "gallery/mine.html",
        no_store=True,
        galleries=cards,
        next_cursor=listing.next_cursor,
    )


@router.get("/galleries/{gallery_id}")
async def my_gallery(request: Request, gallery_id: str):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            return login_redirect(request)
        gallery = await galleries.get_gallery(s, owner_id=user.id, gallery_id=gallery_id)
        shown = await images.gallery_images(s, gallery_id=gallery.id)
    path = gallery.share_path()
    return page(
        request,
        "gallery/detail.html",
        no_store=True,
        gallery=gallery,
        images=shown,
        share_url=f"{c.settings.public_url}{path}" if path else None,
    )


@router.get("/galleries/{gallery_id}/images/{image_id}/{variant}")
async def my_image(
    request: Request, gallery_id: str, image_id: str, variant: Literal["thumbnail", "original"]
):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        user = await load_user(request, s)
        if user is None:
            raise NotFound("No such image")
        image = await images.get_image(s, owner_id=user.id, image_id=image_id)
        if image.gallery_id != gallery_id:
            raise NotFound("No such image")
    if variant == "thumbnail":
        return await _blob(request, image, "thumbnail")
    return await _blob(request, image, "original", disposition="inline")
