"""Inspect uploaded image bytes and make thumbnails, decoding each upload once and bounded.

The image type is always read from the bytes by Pillow, never from a filename or a
client-supplied Content-Type. Only JPEG, PNG, GIF and WebP are accepted; everything
else, including truncated or corrupt files and decompression bombs, is refused with
``UnsupportedImage``.

Memory (issue 15, item 2): an upload is decoded once. A JPEG is decoded at reduced size
(libjpeg's DCT scaling through Pillow's draft mode, 1/2 to 1/8 a side), so a 60 MP camera
photo costs a few MiB; any other format is decoded at full size only if its pixels fit in
``max_decode_bytes``, then reduced by an integer factor before anything else is done with it.
``Decoder`` runs at most ``concurrency`` decodes at once in a process; the others wait.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from PIL import Image

# Well above the 45-60 MP of today's cameras (and the 100 MP of medium format).
DEFAULT_MAX_PIXELS = 120_000_000
# One full-size decode may hold this much (Pillow keeps 4 bytes a pixel for RGB and RGBA): a
# 6,324 x 6,324 RGBA PNG is 160 MB, a 60 MP one 240 MB. JPEGs are decoded far smaller.
DEFAULT_MAX_DECODE_BYTES = 256 * 1024 * 1024
DEFAULT_CONCURRENCY = 2

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
# EXIF Orientation (CIPA DC-008 §4.6.4, tag 0x0112) -> the transpose that displays it upright.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

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


@dataclass(frozen=True, slots=True)
class Prepared:
    """What an upload needs from one decode: what the image is, and its thumbnail."""

    info: ImageInfo
    thumbnail: bytes
    thumbnail_mime_type: str


@dataclass(frozen=True, slots=True)
class Limits:
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES


def prepare(data: bytes, *, size: int = 320, limits: Limits = Limits()) -> Prepared:
    """Identify ``data``, decode it once and make its thumbnail; ``UnsupportedImage`` if
    it is not acceptable. The thumbnail fits in ``size``×``size`` pixels, has EXIF
    orientation applied and carries no metadata; a PNG if the image has transparency, a
    JPEG otherwise. Images smaller than ``size`` are not enlarged."""
    if size < 1:
        raise ValueError("size must be at least 1")
    with _open_checked(data, max_pixels=limits.max_pixels) as img:
        mime_type, extension = _FORMATS[str(img.format)]
        width, height = img.size
        try:
            small, has_alpha = _decode_small(img, size, limits.max_decode_bytes)
            mode = "RGBA" if has_alpha else "RGB"
            converted = small.convert(mode)
            converted.thumbnail((size, size), Image.Resampling.LANCZOS)
        except UnsupportedImage:
            raise
        except Exception as exc:  # Pillow raises many exception types on bad input.
            raise UnsupportedImage(_CORRUPT) from exc
    info = ImageInfo(mime_type, extension, width, height, hashlib.sha256(data).hexdigest())
    # Rebuild from raw pixels so no EXIF, ICC profile, text chunk or other info survives.
    clean = Image.frombytes(mode, converted.size, converted.tobytes())
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, format="PNG", optimize=True)
        return Prepared(info, out.getvalue(), "image/png")
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return Prepared(info, out.getvalue(), "image/jpeg")


def inspect_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Identify and decode ``data``; raise ``UnsupportedImage`` if it is not acceptable."""
    return prepare(data, limits=Limits(max_pixels=max_pixels)).info


def make_thumbnail(data: bytes, *, size: int = 320, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """The thumbnail of :func:`prepare`."""
    return prepare(data, size=size, limits=Limits(max_pixels=max_pixels)).thumbnail


class Decoder:
    """At most ``concurrency`` decodes at once in this process: its own pool of that many
    threads, so an upload beyond them waits its turn, and one whose request went away while
    it ran still holds its thread until the decode ends (the bound never lapses)."""

    def __init__(self, *, concurrency: int = DEFAULT_CONCURRENCY, limits: Limits = Limits()):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.limits = limits
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="decode")

    async def prepare(self, data: bytes, *, size: int) -> Prepared:
        job = self._pool.submit(partial(prepare, data, size=size, limits=self.limits))
        return await asyncio.wrap_future(job)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _decode_small(img: Image.Image, size: int, max_decode_bytes: int) -> tuple[Image.Image, bool]:
    """Decode ``img`` once, as small as a good ``size`` thumbnail allows, upright."""
    orientation = img.getexif().get(0x0112)
    if img.format in ("JPEG", "MPO"):
        # Decodes at the smallest DCT scale that still gives ``size`` pixels a side.
        img.draft(None, (size, size))
    width, height = img.size
    if width * height * _bytes_per_pixel(img.mode) > max_decode_bytes:
        raise UnsupportedImage(_too_large_to_decode(max_decode_bytes))
    img.load()
    has_alpha = img.has_transparency_data
    # An integer reduction down to no less than twice ``size`` leaves LANCZOS room to work.
    factor = max(1, min(width // (2 * size), height // (2 * size)))
    if factor > 1:
        if img.mode in ("1", "P") or img.mode.startswith("I;16"):
            box = (max(1, width // factor), max(1, height // factor))
            small = img.resize(box, Image.Resampling.NEAREST)
        else:
            small = img.reduce(factor)
    else:
        small = img.copy()
    if has_alpha and small.mode == "P":
        small = small.convert("RGBA")
    transpose = _ORIENTATION.get(orientation) if isinstance(orientation, int) else None
    return (small.transpose(transpose) if transpose is not None else small), has_alpha


def _bytes_per_pixel(mode: str) -> int:
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def _open_checked(data: bytes, *, max_pixels: int) -> Image.Image:
    """Open ``data`` with an allowed decoder, enforce ``max_pixels`` and verify the file's
    structure (PNG chunk checksums); the pixels are not decoded yet."""
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
        try:
            probe.verify()  # reads the chunks, never the pixels
        except Exception as exc:
            raise UnsupportedImage(_CORRUPT) from exc
    # verify() leaves the image unusable: open it again (headers only) to decode it.
    try:
        return Image.open(io.BytesIO(data), formats=_DECODERS)
    except Exception as exc:
        raise UnsupportedImage(_CORRUPT) from exc


def _too_large(max_pixels: int) -> str:
    return f"The image is too large (more than {max_pixels:,} pixels)."


def _too_large_to_decode(max_bytes: int) -> str:
    return f"The image is too large to decode (more than {max_bytes // 2**20:,} MiB of pixels)."
