"""Inspect uploaded image bytes and make thumbnails.

The image type is always read from the bytes by Pillow, never from a filename or a
client-supplied Content-Type. Only JPEG, PNG, GIF and WebP are accepted; everything
else, including truncated or corrupt files and decompression bombs, is refused with
``UnsupportedImage``.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps

DEFAULT_MAX_PIXELS = 40_000_000

# Pillow format name -> (MIME type, file extension). Pillow reports JPEGs that carry a
# Multi-Picture (MPO) header, common from phone cameras, as "MPO"; they are still JPEGs.
_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# Only these decoders are ever tried, so no other Pillow plugin parses untrusted input.
_DECODERS = ("JPEG", "PNG", "GIF", "WEBP")

_NOT_AN_IMAGE = "The file is not a JPEG, PNG, GIF or WebP image."
_CORRUPT = "The image file is truncated or corrupt."


class MediaError(Exception):
    """Base class for errors raised by this module."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedImage(MediaError):
    """The bytes are not an acceptable image; ``message`` is safe to show to the user."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime_type: str
    extension: str
    width: int
    height: int
    sha256: str


def inspect_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Identify and fully decode ``data``; raise ``UnsupportedImage`` if it is not acceptable."""
    with _open_checked(data, max_pixels=max_pixels, verify=True) as img:
        mime_type, extension = _FORMATS[str(img.format)]
        width, height = img.size
    return ImageInfo(
        mime_type=mime_type,
        extension=extension,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def make_thumbnail(data: bytes, *, size: int = 320, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """Return a thumbnail fitting in ``size``×``size`` pixels, without any metadata.

    EXIF orientation is applied first. The result is a PNG if the image has transparency,
    a JPEG otherwise. Images smaller than ``size`` are not enlarged.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    with _open_checked(data, max_pixels=max_pixels, verify=False) as img:
        try:
            oriented = ImageOps.exif_transpose(img)
            has_alpha = oriented.has_transparency_data
            mode = "RGBA" if has_alpha else "RGB"
            converted = oriented.convert(mode)
            converted.thumbnail((size, size), Image.Resampling.LANCZOS)
        except Exception as exc:  # Pillow raises many exception types on bad input.
            raise UnsupportedImage(_CORRUPT) from exc
    # Rebuild from raw pixels so no EXIF, ICC profile, text chunk or other info survives.
    clean = Image.frombytes(mode, converted.size, converted.tobytes())
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _open_checked(data: bytes, *, max_pixels: int, verify: bool) -> Image.Image:
    """Open ``data`` with an allowed decoder, enforce ``max_pixels`` and fully decode it."""
    if not data:
        raise UnsupportedImage("The file is empty.")
    try:
        probe = Image.open(io.BytesIO(data), formats=_DECODERS)
    except Image.DecompressionBombError as exc:
        raise UnsupportedImage(_too_large(max_pixels)) from exc
    except Exception as exc:  # UnidentifiedImageError, or a parser error on a broken header.
        raise UnsupportedImage(_NOT_AN_IMAGE) from exc
    with probe:
        if probe.format not in _FORMATS:
            raise UnsupportedImage(_NOT_AN_IMAGE)
        width, height = probe.size
        if width < 1 or height < 1:
            raise UnsupportedImage(_CORRUPT)
        if width * height > max_pixels:
            raise UnsupportedImage(_too_large(max_pixels))
        if verify:
            try:
                probe.verify()
            except Exception as exc:
                raise UnsupportedImage(_CORRUPT) from exc
    # verify() leaves the image unusable, so decode a fresh one in full.
    img = Image.open(io.BytesIO(data), formats=_DECODERS)
    try:
        img.load()
    except Exception as exc:
        img.close()
        raise UnsupportedImage(_CORRUPT) from exc
    return img


def _too_large(max_pixels: int) -> str:
    return f"The image is too large (more than {max_pixels:,} pixels)."
