"""Tests for piksend.gallery.media: type sniffing, corrupt files, bombs, thumbnails."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from piksend.gallery.media import (
    ImageInfo,
    MediaError,
    UnsupportedImage,
    inspect_image,
    make_thumbnail,
)


def _noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    bands = len(mode)
    data = random.Random(1234).randbytes(width * height * bands)
    return Image.frombytes(mode, (width, height), data)


def _encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_header_only(width: int, height: int) -> bytes:
    """A syntactically valid PNG that claims huge dimensions but carries almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("fmt", "mime_type", "extension"),
    [
        ("JPEG", "image/jpeg", "jpg"),
        ("PNG", "image/png", "png"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
    ],
)
def test_detects_real_images(fmt: str, mime_type: str, extension: str) -> None:
    data = _encode(_noise(64, 48), fmt)

    info = inspect_image(data)

    assert info == ImageInfo(
        mime_type=mime_type,
        extension=extension,
        width=64,
        height=48,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_png_named_jpg_is_detected_as_png(tmp_path: Path) -> None:
    disguised = tmp_path / "holiday.jpg"
    disguised.write_bytes(_encode(_noise(10, 20), "PNG"))

    info = inspect_image(disguised.read_bytes())

    assert (info.mime_type, info.extension) == ("image/png", "png")
    assert (info.width, info.height) == (10, 20)


def test_image_info_is_frozen() -> None:
    info = inspect_image(_encode(_noise(4, 4), "PNG"))
    with pytest.raises(AttributeError):
        info.width = 1  # type: ignore[misc]


def test_truncated_jpeg_is_rejected() -> None:
    data = _encode(_noise(256, 256), "JPEG", quality=95)
    truncated = data[: len(data) // 2]

    with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
        inspect_image(truncated)


def test_png_with_bad_checksum_is_rejected() -> None:
    data = bytearray(_encode(_noise(32, 32), "PNG"))
    data[-20] ^= 0xFF  # inside the IDAT data, so its CRC no longer matches

    with pytest.raises(UnsupportedImage):
        inspect_image(bytes(data))


def test_png_with_bad_trailing_chunk_checksum_is_rejected() -> None:
    """Decoding stops at the pixel data; only verify() checks the chunks after it."""
    data = _encode(_noise(8, 8), "PNG")
    assert data.endswith(_png_chunk(b"IEND", b""))
    text = b"Comment\x00hi"
    bad_crc = (zlib.crc32(b"tEXt" + text) ^ 1) & 0xFFFFFFFF
    bad_chunk = struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", bad_crc)

    with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
        inspect_image(data[:-12] + bad_chunk + data[-12:])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is just a text file\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"\x89PNG\r\n\x1a\n",  # signature only
    ],
    ids=["empty", "text", "svg", "png-signature-only"],
)
def test_non_images_are_rejected(data: bytes) -> None:
    with pytest.raises(UnsupportedImage) as excinfo:
        inspect_image(data)
    assert excinfo.value.message
    assert isinstance(excinfo.value, MediaError)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_other_pillow_formats_are_rejected(fmt: str) -> None:
    data = _encode(_noise(8, 8), fmt)

    with pytest.raises(UnsupportedImage, match="not a JPEG, PNG, GIF or WebP"):
        inspect_image(data)


def test_dimension_bomb_over_limit_is_rejected() -> None:
    bomb = _png_header_only(12_000, 12_000)  # 144 Mpx, above the 120 Mpx default

    with pytest.raises(UnsupportedImage, match="too large"):
        inspect_image(bomb)
    with pytest.raises(UnsupportedImage, match="too large"):
        make_thumbnail(bomb)


def test_huge_dimension_bomb_is_rejected() -> None:
    bomb = _png_header_only(100_000, 100_000)  # 10 Gpx; Pillow's own bomb guard fires

    with pytest.raises(UnsupportedImage, match="too large"):
        inspect_image(bomb)


def test_max_pixels_is_honoured() -> None:
    data = _encode(_noise(100, 100), "PNG")

    assert inspect_image(data, max_pixels=10_000).width == 100
    with pytest.raises(UnsupportedImage, match="too large"):
        inspect_image(data, max_pixels=9_999)


def test_thumbnail_preserves_aspect_ratio_as_jpeg() -> None:
    thumb = make_thumbnail(_encode(_noise(1000, 500), "PNG"), size=320)

    with Image.open(io.BytesIO(thumb)) as img:
        assert img.format == "JPEG"
        assert img.size == (320, 160)


def test_thumbnail_does_not_enlarge_small_images() -> None:
    thumb = make_thumbnail(_encode(_noise(100, 50), "JPEG"), size=320)

    with Image.open(io.BytesIO(thumb)) as img:
        assert img.size == (100, 50)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_thumbnail_with_alpha_is_png(fmt: str) -> None:
    params = {"lossless": True} if fmt == "WEBP" else {}
    data = _encode(_noise(600, 400, "RGBA"), fmt, **params)

    thumb = make_thumbnail(data)

    with Image.open(io.BytesIO(thumb)) as img:
        assert img.format == "PNG"
        assert img.mode == "RGBA"
        assert img.size == (320, 213)


def test_thumbnail_of_transparent_gif_is_png() -> None:
    source = _noise(40, 40, "L").convert("P")
    data = _encode(source, "GIF", transparency=0)

    with Image.open(io.BytesIO(make_thumbnail(data))) as img:
        assert img.format == "PNG"


def test_thumbnail_applies_exif_orientation_and_strips_metadata() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[0x010F] = "SpyCam"  # Make
    data = _encode(_noise(800, 400), "JPEG", exif=exif.tobytes())
    assert b"SpyCam" in data  # the fixture really carries EXIF

    thumb = make_thumbnail(data, size=320)

    assert b"Exif" not in thumb
    assert b"SpyCam" not in thumb
    assert b"Secret Photographer" not in thumb
    with Image.open(io.BytesIO(thumb)) as img:
        assert img.size == (160, 320)  # portrait: orientation was applied
        assert "exif" not in img.info
        assert len(img.getexif()) == 0


def test_thumbnail_strips_png_text_and_icc() -> None:
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "gps=52.37,4.89")
    source = _noise(50, 50, "RGBA")
    data = _encode(source, "PNG", pnginfo=meta, icc_profile=b"fake-icc-profile")
    assert b"gps=52.37" in data

    thumb = make_thumbnail(data)

    assert b"gps=52.37" not in thumb
    with Image.open(io.BytesIO(thumb)) as img:
        assert "icc_profile" not in img.info
        assert "Comment" not in img.info


def test_thumbnail_rejects_corrupt_input() -> None:
    data = _encode(_noise(256, 256), "JPEG")

    with pytest.raises(UnsupportedImage):
        make_thumbnail(data[: len(data) // 2])
    with pytest.raises(UnsupportedImage):
        make_thumbnail(b"not an image")


def test_thumbnail_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="size"):
        make_thumbnail(_encode(_noise(8, 8), "PNG"), size=0)
