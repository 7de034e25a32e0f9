"""piksend.gallery.exif: the GPS IFD leaves the EXIF block, every other tag and every pixel
byte stays (issue 15, item 2)."""

from __future__ import annotations

import io
import random
import struct

import pytest
from PIL import Image

from piksend.gallery.exif import MalformedExif, strip_location
from tests.support.exif_images import (
    GPS_IFD,
    LATITUDE,
    LONGITUDE,
    TAGS,
    encode,
    exif_with_gps,
    hand_made_tiff,
    noise,
    photo,
    rationals,
)


def exif_of(data: bytes) -> tuple[dict, dict]:
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return {k: v for k, v in exif.items() if k != GPS_IFD}, dict(exif.get_ifd(GPS_IFD))


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        return img.tobytes()


def sos(data: bytes) -> int:
    """Where the first scan starts (the SOS marker)."""
    position = data.index(b"\xff\xda")
    assert data.count(b"\xff\xda", 0, position) == 0
    return position


def chunks(data: bytes, start: int, header: str) -> list[tuple[bytes, bytes]]:
    """(kind, payload) of a PNG's chunks (``>I4s``, CRC after) or a WebP's (``<4sI``)."""
    found, pos = [], start
    while pos + 8 <= len(data):
        if header == "png":
            length, kind = struct.unpack_from(">I4s", data, pos)
            found.append((kind, data[pos + 8 : pos + 8 + length]))
            pos += 12 + length
        else:
            kind, length = struct.unpack_from("<4sI", data, pos)
            found.append((kind, data[pos + 8 : pos + 8 + length]))
            pos += 8 + length + (length & 1)
    return found


def test_a_jpegs_location_is_gone_its_other_tags_kept_and_the_bytes_after_sos_identical():
    original = photo("JPEG")
    assert exif_of(original)[1] != {} and rationals(LATITUDE) in original  # really located

    stripped = strip_location(original)

    assert exif_of(stripped) == (exif_of(original)[0], {})
    assert exif_of(stripped)[0] == {**TAGS}
    assert rationals(LATITUDE) not in stripped and rationals(LONGITUDE) not in stripped
    assert len(stripped) == len(original)
    assert stripped[sos(original) :] == original[sos(original) :]
    assert sos(stripped) == sos(original)
    assert pixels(stripped) == pixels(original)


@pytest.mark.parametrize("order", ["<", ">"], ids=["intel", "motorola"])
def test_both_byte_orders_lose_the_latitude_and_keep_the_make(order):
    original = encode(noise((40, 30)), "JPEG", b"Exif\x00\x00" + hand_made_tiff(order))
    assert rationals(LATITUDE, order) in original

    stripped = strip_location(original)

    assert exif_of(stripped) == ({0x010F: "HandMadeCam"}, {})
    assert rationals(LATITUDE, order) not in stripped
    assert stripped[sos(original) :] == original[sos(original) :]


def test_a_pngs_exif_chunk_loses_the_location_and_its_image_data_is_untouched():
    original = photo("PNG")

    stripped = strip_location(original)

    assert exif_of(stripped) == ({**TAGS}, {})
    assert rationals(LATITUDE) not in stripped
    before, after = chunks(original, 8, "png"), chunks(stripped, 8, "png")
    assert [k for k, _ in after] == [k for k, _ in before]
    assert [p for k, p in after if k != b"eXIf"] == [p for k, p in before if k != b"eXIf"]
    with Image.open(io.BytesIO(stripped)) as img:
        img.verify()  # every CRC, the rewritten chunk's included, is right
    assert pixels(stripped) == pixels(original)


def test_a_webps_exif_chunk_loses_the_location_and_its_bitstream_is_untouched():
    original = photo("WEBP")

    stripped = strip_location(original)

    assert exif_of(stripped) == ({**TAGS}, {})
    assert rationals(LATITUDE) not in stripped
    before, after = chunks(original, 12, "webp"), chunks(stripped, 12, "webp")
    assert [p for k, p in after if k != b"EXIF"] == [p for k, p in before if k != b"EXIF"]
    assert stripped[:12] == original[:12]  # the RIFF size is unchanged
    assert pixels(stripped) == pixels(original)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_an_image_without_a_location_comes_back_byte_for_byte(fmt):
    exif = exif_with_gps()
    del exif[GPS_IFD]
    data = encode(noise((20, 20)).convert("P") if fmt == "GIF" else noise((20, 20)), fmt,
                  None if fmt == "GIF" else exif.tobytes())  # fmt: skip

    assert strip_location(data) == data


@pytest.mark.parametrize(
    "damage",
    [
        lambda tiff: tiff[:4] + struct.pack("<I", 60_000) + tiff[8:],  # IFD0 past the end
        lambda tiff: tiff.replace(struct.pack("<HHII", 0x8825, 4, 1, 38), struct.pack("<HHII", 0x8825, 4, 1, 9_999)),
        lambda tiff: tiff[:40],  # the GPS IFD cut off
        lambda tiff: b"XX" + tiff[2:],  # no byte order
    ],
    ids=["ifd0-offset", "gps-offset", "truncated", "byte-order"],
)  # fmt: skip
def test_an_exif_block_that_cannot_be_followed_is_refused(damage):
    tiff = damage(hand_made_tiff("<"))
    data = encode(noise((20, 20)), "JPEG", b"Exif\x00\x00" + tiff)

    with pytest.raises(MalformedExif) as refused:
        strip_location(data)
    assert refused.value.message == (
        "The image's EXIF metadata is malformed, so its location cannot be removed."
    )


def test_garbled_exif_is_either_stripped_or_refused_never_another_error():
    original = photo("JPEG")
    start = original.index(b"Exif\x00\x00") + 6
    rng = random.Random(15)
    outcomes = set()
    for _ in range(300):
        garbled = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            garbled[rng.randrange(start, start + 200)] = rng.randrange(256)
        try:
            stripped = strip_location(bytes(garbled))
        except MalformedExif:
            outcomes.add("refused")
            continue
        outcomes.add("stripped")
        assert stripped[sos(original) :] == original[sos(original) :]
    assert outcomes == {"refused", "stripped"}
