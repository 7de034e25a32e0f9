"""An image's bytes as a response, for the share pages and the owner's pages alike, streamed
from the blob store (web/blob_response.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from piksend.gallery import images
from piksend.gallery.images import ImageView, Variant
from piksend.web.blob_response import blob_response as stream_blob
from piksend.web.context import ctx


async def blob_response(
    request: Request, image: ImageView, variant: Variant, *, disposition: str | None = None
) -> Response:
    stream, mime = await images.open_variant(ctx(request).blobs, image, variant=variant)
    headers = {"cache-control": "private, max-age=0"}
    if disposition:
        headers["content-disposition"] = f'{disposition}; filename="{image.filename}"'
    return stream_blob(stream, mime, headers)
