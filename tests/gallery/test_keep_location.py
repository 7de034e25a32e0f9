"""Originals are stored without their EXIF location unless the gallery keeps it (issue 15,
item 2): through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

from PIL import Image

from tests.support.exif_images import (
    GPS_IFD,
    LATITUDE,
    TAGS,
    encode,
    hand_made_tiff,
    noise,
    rationals,
)
from tests.support.exif_images import photo as located_photo


def exif_of(data: bytes) -> tuple[dict, dict]:
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return {k: v for k, v in exif.items() if k != GPS_IFD}, dict(exif.get_ifd(GPS_IFD))


async def upload_and_fetch(world, gallery_id: str, data: bytes) -> tuple[dict, bytes]:
    uploaded = await world.alice.upload(gallery_id, data, name="trip.jpg", mime="image/jpeg")
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()
    stored = await world.alice.get(f"/api/v1/images/{image['id']}/content")
    assert stored.status_code == 200
    return image, stored.content


async def test_a_new_gallery_removes_the_location_and_keeps_every_other_tag_and_pixel(world):
    gallery = await world.alice.create_gallery("Trip")
    assert gallery["keep_location"] is False
    original = located_photo("JPEG")

    image, stored = await upload_and_fetch(world, gallery["id"], original)

    assert exif_of(stored) == ({**TAGS}, {})
    assert rationals(LATITUDE) not in stored
    scan = original.index(b"\xff\xda")
    assert stored[scan:] == original[scan:]  # the entropy-coded data, byte for byte
    assert (image["size_bytes"], len(stored)) == (len(original), len(original))


async def test_a_gallery_that_keeps_the_location_stores_the_upload_byte_for_byte(world):
    gallery = await world.alice.create_gallery("Survey", keep_location=True)
    assert gallery["keep_location"] is True
    original = located_photo("JPEG")

    _, stored = await upload_and_fetch(world, gallery["id"], original)

    assert stored == original


async def test_the_switch_is_changed_with_patch_and_applies_to_later_uploads(world):
    gallery = await world.alice.create_gallery("Trip")
    changed = await world.alice.patch(
        f"/api/v1/galleries/{gallery['id']}", json={"keep_location": True}
    )
    assert (changed.status_code, changed.json()["keep_location"]) == (200, True)
    got = await world.alice.get(f"/api/v1/galleries/{gallery['id']}")
    assert got.json()["keep_location"] is True
    _, kept = await upload_and_fetch(world, gallery["id"], located_photo("PNG"))
    assert exif_of(kept)[1] != {}

    await world.alice.patch(f"/api/v1/galleries/{gallery['id']}", json={"keep_location": False})
    _, stripped = await upload_and_fetch(world, gallery["id"], located_photo("WEBP"))
    assert exif_of(stripped) == ({**TAGS}, {})
    listed = (await world.alice.get("/api/v1/galleries")).json()["data"]
    assert [g["keep_location"] for g in listed] == [False]


async def test_keep_location_must_be_a_boolean(world):
    gallery = await world.alice.create_gallery("Trip")

    response = await world.alice.patch(
        f"/api/v1/galleries/{gallery['id']}", json={"keep_location": None}
    )

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    got = await world.alice.get(f"/api/v1/galleries/{gallery['id']}")
    assert got.json()["keep_location"] is False


async def test_an_upload_whose_exif_cannot_be_followed_is_refused_with_a_422(world):
    gallery = await world.alice.create_gallery("Trip")
    tiff = hand_made_tiff("<")
    broken = tiff[:4] + (60_000).to_bytes(4, "little") + tiff[8:]  # IFD0 past the end

    response = await world.alice.upload(
        gallery["id"], encode(noise((20, 20)), "JPEG", b"Exif\x00\x00" + broken), mime="image/jpeg"
    )

    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "validation_error",
            "error_description": (
                "The image's EXIF metadata is malformed, so its location cannot be removed."
            ),
            "field": "file",
        },
    )
    listed = await world.alice.get(f"/api/v1/galleries/{gallery['id']}/images")
    assert listed.json()["data"] == []
