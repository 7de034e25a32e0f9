"""Images carrying EXIF with a GPS location, made with Pillow (and one TIFF block by hand)."""

from __future__ import annotations

import io
import random
import struct

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION, ARTIST = 0x010F, 0x0110, 0x0112, 0x013B
# Amsterdam, as a camera writes it: degrees, minutes, seconds as rationals.
LATITUDE = ((52, 1), (22, 1), (1717, 100))
LONGITUDE = ((4, 1), (53, 1), (4321, 100))
GPS = {
    1: "N",
    2: tuple(IFDRational(*r) for r in LATITUDE),
    3: "E",
    4: tuple(IFDRational(*r) for r in LONGITUDE),
}
TAGS = {MAKE: "SpyCam", MODEL: "Model 7", ORIENTATION: 1, ARTIST: "Ann Example"}


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    data = random.Random(7).randbytes(size[0] * size[1] * len(mode))
    return Image.frombytes(mode, size, data)


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    for tag, value in TAGS.items():
        exif[tag] = value
    exif[GPS_IFD] = GPS
    return exif


def encode(image: Image.Image, fmt: str, exif: bytes | None = None, **params) -> bytes:
    out = io.BytesIO()
    if exif is not None:
        params["exif"] = exif
    image.save(out, format=fmt, **params)
    return out.getvalue()


def photo(fmt: str = "JPEG", size=(96, 64), mode="RGB") -> bytes:
    """A photo with location and camera tags."""
    params = {"lossless": True} if fmt == "WEBP" else {}
    return encode(noise(size, mode), fmt, exif_with_gps().tobytes(), **params)


def hand_made_tiff(order: str = "<") -> bytes:
    """An EXIF block by hand, Intel ("II", ``<``) or Motorola ("MM", ``>``) order: Make, then
    the GPS IFD with the latitude. (Pillow itself writes Motorola order.)"""
    make = b"HandMadeCam\x00"
    ifd0_at, gps_at = 8, 8 + 2 + 2 * 12 + 4
    make_at = gps_at + 2 + 2 * 12 + 4
    latitude_at = make_at + len(make)
    ifd0 = struct.pack(order + "H", 2)
    ifd0 += struct.pack(order + "HHII", MAKE, 2, len(make), make_at)
    ifd0 += struct.pack(order + "HHII", GPS_IFD, 4, 1, gps_at) + struct.pack(order + "I", 0)
    gps = struct.pack(order + "H", 2)
    gps += struct.pack(order + "HHI4s", 1, 2, 2, b"N\x00\x00\x00")
    gps += struct.pack(order + "HHII", 2, 5, 3, latitude_at) + struct.pack(order + "I", 0)
    header = b"II*\x00" if order == "<" else b"MM\x00*"
    tiff = (
        header + struct.pack(order + "I", ifd0_at) + ifd0 + gps + make + rationals(LATITUDE, order)
    )
    return tiff


def rationals(values, order: str = ">") -> bytes:
    return b"".join(struct.pack(order + "II", *r) for r in values)
