"""Galleries: fields, validation errors, share links and cursor pagination."""

from __future__ import annotations

import pytest

from tests.conftest import ISSUER
from tests.support.images import make_image


async def test_a_created_gallery_has_every_documented_field(world, clock):
    response = await world.alice.post(
        "/api/v1/galleries",
        json={"title": "Alps", "description": "Summer", "visibility": "unlisted"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("gal_")
    assert body["share_url"].startswith(f"{ISSUER}/g/")
    assert {k: body[k] for k in ("title", "description", "visibility", "image_count")} == {
        "title": "Alps",
        "description": "Summer",
        "visibility": "unlisted",
        "image_count": 0,
    }
    assert body["cover_image_id"] is None
    assert body["created_at"] == body["updated_at"]


async def test_a_private_gallery_has_no_share_link(world):
    body = await world.alice.create_gallery("Secret")
    assert body["visibility"] == "private"
    assert body["share_url"] is None


async def test_bad_fields_are_400_invalid_request(world):
    response = await world.alice.post("/api/v1/galleries", json={"title": "", "extra": 1})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    null_title = await world.alice.post("/api/v1/galleries", json={"title": None})
    assert null_title.status_code == 400


async def test_patch_changes_only_the_fields_sent(world, clock):
    gallery = await world.alice.create_gallery("Before", description="Keep")
    clock.advance(60)
    response = await world.alice.patch(
        f"/api/v1/galleries/{gallery['id']}", json={"title": "After", "visibility": "public"}
    )
    body = response.json()
    assert (body["title"], body["description"], body["visibility"]) == ("After", "Keep", "public")
    assert body["updated_at"] != body["created_at"]


@pytest.mark.parametrize("count", [5])
async def test_pages_of_galleries_cover_every_gallery_once_newest_first(world, clock, count):
    made = []
    for i in range(count):
        made.append((await world.alice.create_gallery(f"G{i}"))["id"])
        clock.advance(1)
    seen, cursor, sizes = [], None, []
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await world.alice.get("/api/v1/galleries", params=params)).json()
        sizes.append(len(page["data"]))
        seen += [g["id"] for g in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [2, 2, 1]
    assert seen == list(reversed(made))


async def test_pages_of_images_follow_the_cursor(world, clock):
    gallery = await world.alice.create_gallery()
    made = []
    for _ in range(3):
        made.append((await world.alice.upload(gallery["id"], make_image("PNG"))).json()["id"])
    first = (
        await world.alice.get(f"/api/v1/galleries/{gallery['id']}/images", params={"limit": 2})
    ).json()
    second = (
        await world.alice.get(
            f"/api/v1/galleries/{gallery['id']}/images",
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    assert second["next_cursor"] is None
    assert sorted(i["id"] for i in first["data"] + second["data"]) == sorted(made)


async def test_a_forged_cursor_is_400(world):
    response = await world.alice.get("/api/v1/galleries", params={"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The cursor is not valid",
        "field": "cursor",
    }


async def test_a_limit_over_100_is_400(world):
    response = await world.alice.get("/api/v1/galleries", params={"limit": 101})
    assert response.status_code == 400


async def test_a_cursor_whose_time_cannot_be_converted_to_utc_is_400(world):
    import base64
    import json

    raw = json.dumps({"t": "0001-01-01T00:00:00+01:00", "i": "gal_x"}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = await world.alice.get("/api/v1/galleries", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The cursor is not valid",
        "field": "cursor",
    }


async def test_text_with_a_nul_character_postgresql_cannot_store_is_400_not_a_server_error(
    world, http, settings
):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite stores NUL characters; only PostgreSQL text refuses them")
    expected = {
        "error": "invalid_request",
        "error_description": "The request contains a NUL character",
    }
    created = await world.alice.post("/api/v1/galleries", json={"title": "a\x00b"})
    assert (created.status_code, created.json()) == (400, expected)
    looked_up = await world.alice.get("/api/v1/galleries/gal%00x")
    assert (looked_up.status_code, looked_up.json()) == (400, expected)
    shared = await http.get("/g/abc%00def")
    assert shared.status_code == 400
    assert "The request contains a NUL character" in shared.text
