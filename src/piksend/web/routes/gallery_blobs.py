"""An image's bytes as a response, for the share pages and the owner's pages alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from piksend.gallery import images
from piksend.gallery.images import ImageView, Variant
from piksend.web.context import ctx


async def blob_response(
    request: Request, image: ImageView, variant: Variant, *, disposition: str | None = None
) -> Response:
    data, mime = await images.read_variant(ctx(request).blobs, image, variant=variant)
    headers = {"cache-control": "private, max-age=0"}
    if disposition:
        headers["content-disposition"] = f'{disposition}; filename="{image.filename}"'
    return Response(data, media_type=mime, headers=headers)
