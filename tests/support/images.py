"""Real image files made with Pillow, in every accepted format."""

from __future__ import annotations

import io

from PIL import Image

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}


def make_image(fmt: str = "PNG", size: tuple[int, int] = (40, 30), color=(200, 40, 90)) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()
