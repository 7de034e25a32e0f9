"""The owner's galleries in the browser: list, create, rename and describe, share or hide,
delete (after a confirmation page, or its dialog with JavaScript), and the images' files.

Every change goes through :mod:`piksend.gallery.galleries`, the service /api/v1 calls, so a
page follows the same rules and sends the same webhooks. Another user's gallery is 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from piksend.errors import NotFound
from piksend.gallery import galleries, images
from piksend.gallery.galleries import DESCRIPTION_MAX, TITLE_MAX, GalleryView, Visibility
from piksend.web.auth import SignedIn, load_user
from piksend.web.context import ctx
from piksend.web.render import page, see_other
from piksend.web.routes.gallery_blobs import blob_response
from piksend.web.routes.gallery_uploads import PAGE_UPLOAD_FILES, read_notice
from piksend.web.views import PostedForm, text

router = APIRouter(include_in_schema=False)

VISIBILITY_CHOICES = (
    (
        Visibility.PRIVATE,
        "Private",
        "Only you see it. Making a shared gallery private ends its link for good.",
    ),
    (
        Visibility.UNLISTED,
        "Unlisted",
        "Anyone with the link sees it; search engines are asked not to list it.",
    ),
    (Visibility.PUBLIC, "Public", "Anyone with the link sees it, and search engines may list it."),
)


@dataclass(frozen=True)
class GalleryCard:
    gallery: GalleryView
    cover_id: str | None


@dataclass
class GalleryForm:
    """What the create and edit forms show: the values and their inline errors."""

    title: str = ""
    description: str = ""
    visibility: str = Visibility.PRIVATE.value
    keep_location: bool = False
    errors: dict[str, str] | None = None

    @classmethod
    def from_post(cls, form: FormData) -> GalleryForm:
        return cls(
            title=text(form, "title").strip(),
            description=text(form, "description").strip(),
            visibility=text(form, "visibility") or Visibility.PRIVATE.value,
            keep_location=text(form, "keep_location") == "on",
        )

    @classmethod
    def of(cls, gallery: GalleryView) -> GalleryForm:
        return cls(
            gallery.title, gallery.description, gallery.visibility.value, gallery.keep_location
        )

    def check(self, *, with_visibility: bool) -> bool:
        """The API's rules (api_v1/galleries.py), with messages for people."""
        errors = {}
        if not self.title:
            errors["title"] = "Give the gallery a title."
        elif len(self.title) > TITLE_MAX:
            errors["title"] = f"The title can have at most {TITLE_MAX} characters."
        if len(self.description) > DESCRIPTION_MAX:
            errors["description"] = (
                f"The description can have at most {DESCRIPTION_MAX} characters."
            )
        for name in ("title", "description"):
            if "\x00" in getattr(self, name) and name not in errors:
                errors[name] = "This text contains a character that cannot be kept (NUL)."
        if with_visibility and self.visibility not in set(Visibility):
            errors["visibility"] = "Choose who can see the gallery."
        self.errors = errors or None
        return not errors

    @property
    def error_list(self) -> list[tuple[str, str]]:
        return [(f"f-{name}", message) for name, message in (self.errors or {}).items()]


@router.get("/galleries")
async def my_galleries(
    request: Request, user: SignedIn, cursor: str | None = None, deleted: str | None = None
) -> Response:
    async with ctx(request).db.reader() as s:
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
        deleted=deleted == "1",
    )


def _form_page(request: Request, form: GalleryForm, *, status: int = 200) -> Response:
    return page(
        request,
        "gallery/new.html",
        status=status,
        no_store=True,
        form=form,
        choices=VISIBILITY_CHOICES,
    )


@router.get("/galleries/new")
async def new_gallery(request: Request, user: SignedIn) -> Response:
    return _form_page(request, GalleryForm())


@router.post("/galleries/new")
async def create_gallery(request: Request, form: PostedForm, user: SignedIn) -> Response:
    posted = GalleryForm.from_post(form)
    if not posted.check(with_visibility=True):
        return _form_page(request, posted, status=422)
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        created = await galleries.create_gallery(
            s,
            owner_id=user.id,
            title=posted.title,
            description=posted.description,
            visibility=Visibility(posted.visibility),
            keep_location=posted.keep_location,
            public_url=c.settings.public_url,
            now=c.now(),
        )
    return see_other(f"/galleries/{created.id}?done=created")


DONE = {
    "created": "The gallery was created.",
    "saved": "Your changes were saved.",
    "visibility": "Who can see the gallery was changed.",
    "uploaded": "Your photos were uploaded.",
}


@router.get("/galleries/{gallery_id}")
async def my_gallery(
    request: Request,
    gallery_id: str,
    user: SignedIn,
    done: str | None = None,
    notice: str | None = None,
) -> Response:
    c = ctx(request)
    async with c.db.reader() as s:
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
        choices=VISIBILITY_CHOICES,
        done=DONE.get(done or ""),
        notice=read_notice(c.settings.secret_key, gallery.id, notice),
        max_files=PAGE_UPLOAD_FILES,
        max_bytes=c.settings.max_upload_bytes,
    )


def _edit_page(
    request: Request, gallery: GalleryView, form: GalleryForm, *, status: int = 200
) -> Response:
    return page(
        request, "gallery/edit.html", status=status, no_store=True, gallery=gallery, form=form
    )


@router.get("/galleries/{gallery_id}/edit")
async def edit_gallery(request: Request, gallery_id: str, user: SignedIn) -> Response:
    async with ctx(request).db.reader() as s:
        gallery = await galleries.get_gallery(s, owner_id=user.id, gallery_id=gallery_id)
    return _edit_page(request, gallery, GalleryForm.of(gallery))


@router.post("/galleries/{gallery_id}/edit")
async def save_gallery(
    request: Request, gallery_id: str, form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    posted = GalleryForm.from_post(form)
    async with c.db.unit_of_work() as s:
        gallery = await galleries.get_gallery(s, owner_id=user.id, gallery_id=gallery_id)
        if not posted.check(with_visibility=False):
            return _edit_page(request, gallery, posted, status=422)
        changes = {
            "title": posted.title,
            "description": posted.description,
            "keep_location": posted.keep_location,
        }
        await galleries.update_gallery(
            s,
            owner_id=user.id,
            gallery_id=gallery_id,
            changes=changes,
            public_url=c.settings.public_url,
            now=c.now(),
        )
    return see_other(f"/galleries/{gallery_id}?done=saved")


@router.post("/galleries/{gallery_id}/visibility")
async def set_visibility(
    request: Request, gallery_id: str, form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    chosen = text(form, "visibility")
    if chosen not in set(Visibility):
        async with c.db.reader() as s:  # an unknown gallery stays 404, before the form's error
            await galleries.get_gallery(s, owner_id=user.id, gallery_id=gallery_id)
        return page(
            request,
            "error.html",
            status=422,
            no_store=True,
            title="Choose who can see the gallery",
            message="Go back and pick Private, Unlisted or Public.",
        )
    async with c.db.unit_of_work() as s:
        await galleries.update_gallery(
            s,
            owner_id=user.id,
            gallery_id=gallery_id,
            changes={"visibility": chosen},
            public_url=c.settings.public_url,
            now=c.now(),
        )
    return see_other(f"/galleries/{gallery_id}?done=visibility#sharing")


@router.get("/galleries/{gallery_id}/delete")
async def confirm_delete(request: Request, gallery_id: str, user: SignedIn) -> Response:
    async with ctx(request).db.reader() as s:
        gallery = await galleries.get_gallery(s, owner_id=user.id, gallery_id=gallery_id)
    return page(request, "gallery/delete.html", no_store=True, gallery=gallery)


@router.post("/galleries/{gallery_id}/delete")
async def delete_gallery(
    request: Request, gallery_id: str, _form: PostedForm, user: SignedIn
) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        await galleries.delete_gallery(s, owner_id=user.id, gallery_id=gallery_id, now=c.now())
    return see_other("/galleries?deleted=1")


@router.get("/galleries/{gallery_id}/images/{image_id}/{variant}")
async def my_image(
    request: Request, gallery_id: str, image_id: str, variant: Literal["thumbnail", "original"]
) -> Response:
    async with ctx(request).db.reader() as s:
        user = await load_user(request, s)
        if user is None:
            raise NotFound("No such image")
        image = await images.get_image(s, owner_id=user.id, image_id=image_id)
        if image.gallery_id != gallery_id:
            raise NotFound("No such image")
    disposition = None if variant == "thumbnail" else "inline"
    return await blob_response(request, image, variant, disposition=disposition)
