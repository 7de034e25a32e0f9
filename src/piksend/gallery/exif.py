"""Removing the location from an image's EXIF without touching its pixels (issue 15, item 2).

EXIF is a TIFF structure (CIPA DC-008 §4.6.2, TIFF 6.0 §2): a header, IFD0 whose entry 0x8825
points to the GPS IFD (DC-008 §4.6.6), whose entries hold the location. It is carried in a
JPEG's APP1 segment after ``Exif\\0\\0`` (DC-008 §4.5.4), a PNG's ``eXIf`` chunk (PNG 3rd ed.
§11.3.3.6) and a WebP file's ``EXIF`` chunk (RFC 9649 §2.7.1.3).

The GPS entry is removed from IFD0 and every byte of the GPS IFD and of the values it points
to is zeroed, in place: the segment or chunk keeps its length, so no other offset moves and
nothing outside the EXIF block changes — a JPEG's entropy-coded data after SOS, a PNG's IDAT
and a WebP's bitstream stay byte-identical; only a PNG chunk's CRC is recomputed. Every other
tag is kept. An EXIF block whose structure cannot be followed is refused, never guessed at.
"""

from __future__ import annotations

import struct
import zlib

GPS_IFD_TAG = 0x8825
_EXIF_HEADER = b"Exif\x00\x00"
# TIFF 6.0 §2 field types (and 13, IFD, from the TIFF/EP and DNG specs) -> bytes per value.
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MalformedExif(Exception):
    """The EXIF block's structure cannot be followed; ``message`` is safe to show."""

    message = "The image's EXIF metadata is malformed, so its location cannot be removed."


def strip_location(data: bytes) -> bytes:
    """``data`` without EXIF GPS data; the very same bytes when there is none, or when the
    format carries no EXIF (GIF). Raises ``MalformedExif``."""
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(_PNG_SIGNATURE):
        return _png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return data


def _jpeg(data: bytes) -> bytes:
    """Walk the marker segments before SOS (ITU-T T.81 §B.1.1.4, §B.2.4.4)."""
    out = bytearray(data)
    pos = 2
    while True:
        while (
            pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) and data[pos + 1] == 0xFF
        ):
            pos += 1  # fill bytes (T.81 §B.1.1.2)
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise MalformedExif
        marker = data[pos + 1]
        if marker == 0xDA:  # SOS: the entropy-coded data follows, never touched
            return bytes(out)
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # TEM, RSTn, SOI: no length field
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise MalformedExif
        body = pos + 4
        if marker == 0xE1 and data[body : body + 6] == _EXIF_HEADER:
            _strip_tiff(out, body + 6, end)
        pos = end


def _png(data: bytes) -> bytes:
    """Walk the chunks (PNG 3rd ed. §5.3); a changed ``eXIf`` chunk gets a new CRC."""
    out = bytearray(data)
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        start, end = pos + 8, pos + 8 + length
        if end + 4 > len(data):
            raise MalformedExif
        if kind == b"eXIf" and _strip_tiff(out, start, end):
            struct.pack_into(">I", out, end, zlib.crc32(out[pos + 4 : end]) & 0xFFFFFFFF)
        if kind == b"IEND":
            break
        pos = end + 4
    return bytes(out)


def _webp(data: bytes) -> bytes:
    """Walk the RIFF chunks (RFC 9649 §2.7); the ``EXIF`` chunk keeps its size."""
    out = bytearray(data)
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, pos)
        start, end = pos + 8, pos + 8 + length
        if end > len(data):
            raise MalformedExif
        if kind == b"EXIF":
            # Some writers put the JPEG APP1 header in front of the TIFF data.
            tiff = start + 6 if data[start : start + 6] == _EXIF_HEADER else start
            _strip_tiff(out, tiff, end)
        pos = end + (length & 1)  # chunks are padded to an even size
    return bytes(out)


def _strip_tiff(out: bytearray, start: int, end: int) -> bool:
    """Remove the GPS IFD of the TIFF structure in ``out[start:end]``; True if there was one."""
    tiff = bytes(out[start:end])
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        raise MalformedExif
    (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
    entries = _entries(tiff, ifd0, order)
    gps = [e for e in entries if e[0] == GPS_IFD_TAG]
    if not gps:
        return False
    _tag, kind, count, gps_offset = gps[0]
    if kind not in (4, 13) or count != 1:
        raise MalformedExif
    # The GPS IFD's values, then the IFD itself, become zeros.
    for _tag, value_kind, value_count, value_offset in _entries(tiff, gps_offset, order):
        size = _TYPE_SIZES[value_kind] * value_count
        if size > 4:
            if value_offset < 8 or value_offset + size > len(tiff):
                raise MalformedExif
            out[start + value_offset : start + value_offset + size] = bytes(size)
    (gps_count,) = struct.unpack_from(order + "H", tiff, gps_offset)
    gps_size = 2 + 12 * gps_count + 4
    out[start + gps_offset : start + gps_offset + gps_size] = bytes(gps_size)
    # IFD0 without the GPS entry: one entry fewer, the next-IFD offset moved up, 12 zeros after.
    kept = [e for e in entries if e[0] != GPS_IFD_TAG]
    (next_ifd,) = struct.unpack_from(order + "I", tiff, ifd0 + 2 + 12 * len(entries))
    rebuilt = struct.pack(order + "H", len(kept))
    for entry in kept:
        rebuilt += struct.pack(order + "HHII", *entry)
    rebuilt += struct.pack(order + "I", next_ifd) + bytes(12 * (len(entries) - len(kept)))
    out[start + ifd0 : start + ifd0 + len(rebuilt)] = rebuilt
    return True


def _entries(tiff: bytes, offset: int, order: str) -> list[tuple[int, int, int, int]]:
    """An IFD's entries (TIFF 6.0 §2: 2-byte count, 12-byte entries, 4-byte next offset)."""
    if offset < 8 or offset + 2 > len(tiff):
        raise MalformedExif
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    if offset + 2 + 12 * count + 4 > len(tiff):
        raise MalformedExif
    entries = [struct.unpack_from(order + "HHII", tiff, offset + 2 + 12 * i) for i in range(count)]
    if any(kind not in _TYPE_SIZES for _tag, kind, _count, _value in entries):
        raise MalformedExif
    return entries
