"""A stored image as a response: a local file through ``FileResponse`` (sendfile, ranges
left to Starlette), an object store's body streamed chunk by chunk, never read whole."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from piksend.gallery.blobs import BlobStream


def blob_response(stream: BlobStream, media_type: str, headers: dict[str, str]) -> Response:
    if stream.path is not None:
        return FileResponse(stream.path, media_type=media_type, headers=headers, stat_result=None)
    headers = {**headers, "content-length": str(stream.size)}
    return StreamingResponse(
        stream.chunks,
        media_type=media_type,
        headers=headers,
        background=BackgroundTask(stream.aclose),
    )
