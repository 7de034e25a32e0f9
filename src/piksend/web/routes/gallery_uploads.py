"""Uploading photos from the owner's gallery page: several files in one plain form post
(no JavaScript needed), or one file per request from ``static/gallery.js`` with a progress bar.

Each file goes through :func:`piksend.gallery.images.upload_image` in its own unit of work,
the call /api/v1 makes: the same quotas, size limit, decoding, EXIF location removal, and
blob-before-row order. One refused file never undoes the others. A form post answers 303
back to the gallery (a reload never re-posts the files) with a notice of what happened,
signed so that no link can make the page say something that did not happen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from piksend.errors import DomainError
from piksend.gallery import galleries, images
from piksend.web import csrf, rate_limits
from piksend.web.auth import SignedIn
from piksend.web.context import ctx
from piksend.web.render import see_other
from piksend.web.security import PAGE_UPLOAD_FILES

router = APIRouter(include_in_schema=False)

__all__ = ["PAGE_UPLOAD_FILES", "Notice", "read_notice", "router"]
_NAME_CHARS = 120


@dataclass(frozen=True)
class Refusal:
    filename: str
    message: str
    status: int


@dataclass(frozen=True)
class Notice:
    """What the gallery page says after an upload: how many were added, which were not, why."""

    uploaded: int
    refused: list[tuple[str, str]]
    nothing_chosen: bool = False


def _sign(secret_key: str, gallery_id: str, payload: str) -> str:
    key = hmac.new(secret_key.encode(), b"piksend upload notice", hashlib.sha256).digest()
    return hmac.new(key, f"{gallery_id}\x00{payload}".encode(), hashlib.sha256).hexdigest()


def write_notice(secret_key: str, gallery_id: str, notice: Notice) -> str:
    body = {"n": notice.uploaded, "r": notice.refused[:PAGE_UPLOAD_FILES]}
    raw = json.dumps(body, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{_sign(secret_key, gallery_id, payload)}"


def read_notice(secret_key: str, gallery_id: str, value: str | None) -> Notice | None:
    """The notice a redirect carried, or None when there is none or it is not ours."""
    if not value or len(value) > 8000 or "." not in value:
        return None
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(_sign(secret_key, gallery_id, payload), signature):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        refused = [(str(name), str(message)) for name, message in body["r"]]
        uploaded = int(body["n"])
    except (ValueError, KeyError, TypeError):
        return None
    return Notice(uploaded, refused, nothing_chosen=uploaded == 0 and not refused)


def _display_name(upload: UploadFile) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return (name or "unnamed file")[:_NAME_CHARS]


async def read_upload_form(request: Request) -> FormData:
    """The posted files and the CSRF token, checked before the sender's sign-in."""
    form = await request.form(max_files=PAGE_UPLOAD_FILES, max_fields=10)
    c = ctx(request)
    token = form.get("csrf_token")
    try:
        csrf.verify(
            request,
            token if isinstance(token, str) else None,
            c.settings.secret_key,
            c.settings.secure_cookies,
        )
    except csrf.CsrfError:
        await form.close()
        raise
    return form


UploadForm = Annotated[FormData, Depends(read_upload_form)]


async def _store_one(
    request: Request, user_id: str, gallery_id: str, upload: UploadFile
) -> Refusal | None:
    c = ctx(request)
    limit = c.settings.max_upload_bytes
    name = _display_name(upload)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        return Refusal(name, f"The file is larger than {limit} bytes.", 413)
    try:
        async with c.db.unit_of_work() as s:  # its own unit: a refusal rolls back only itself
            await images.upload_image(
                s,
                blobs=c.blobs,
                decoder=c.decoder,
                owner_id=user_id,
                gallery_id=gallery_id,
                data=data,
                filename=upload.filename,
                title="",
                now=c.now(),
                quota=rate_limits.upload_quota(c.settings),
            )
    except DomainError as refused:
        return Refusal(name, refused.description, refused.status)
    return None


@router.post("/galleries/{gallery_id}/images")
async def upload_photos(
    request: Request, gallery_id: str, form: UploadForm, user: SignedIn
) -> Response:
    c = ctx(request)
    try:
        async with c.db.reader() as s:  # another user's gallery: 404 before any file is read
            await galleries.get_gallery(s, owner_id=user.id, gallery_id=gallery_id)
        files = [
            f for f in form.getlist("file") if isinstance(f, UploadFile) and (f.filename or f.size)
        ]
        refused: list[Refusal] = []
        for upload in files:  # one at a time: one decoded image in memory per request
            refusal = await _store_one(request, user.id, gallery_id, upload)
            if refusal is not None:
                refused.append(refusal)
    finally:
        await form.close()
    uploaded = len(files) - len(refused)
    if "application/json" in request.headers.get("accept", ""):
        status = 201 if uploaded else (refused[0].status if refused else 400)
        body = {
            "uploaded": uploaded,
            "refused": [{"filename": r.filename, "error": r.message} for r in refused],
        }
        return JSONResponse(body, status_code=status, headers={"cache-control": "no-store"})
    notice = Notice(uploaded, [(r.filename, r.message) for r in refused])
    signed = write_notice(c.settings.secret_key, gallery_id, notice)
    return see_other(f"/galleries/{gallery_id}?notice={signed}#photos")
