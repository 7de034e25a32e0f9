"""Public share pages count real views; stats report them; owners see their galleries."""

from __future__ import annotations

from datetime import timedelta

from tests.support.images import make_image


async def shared_gallery(world, visibility="public"):
    gallery = await world.alice.create_gallery("Shared", visibility=visibility)
    image = (await world.alice.upload(gallery["id"], make_image("JPEG"))).json()
    path = gallery["share_url"].removeprefix("http://127.0.0.1:8000")
    return gallery, image, path


async def test_the_share_page_shows_thumbnails_and_counts_views(world, http, clock):
    gallery, image, path = await shared_gallery(world)
    for visitor in range(3):  # a view counts once per visitor per day: three visitors
        page = await http.get(path, headers={"user-agent": f"Browser {visitor}"})
        assert page.status_code == 200
    assert f'src="{path}/thumbnails/{image["id"]}"' in page.text
    thumb = await http.get(f"{path}/thumbnails/{image['id']}")
    assert thumb.headers["content-type"] == "image/jpeg"
    for visitor in range(2):
        ua = {"user-agent": f"Browser {visitor}"}
        assert (await http.get(f"{path}/images/{image['id']}", headers=ua)).status_code == 200
    download = await http.get(f"{path}/images/{image['id']}/download")
    assert download.headers["content-disposition"] == 'attachment; filename="photo.jpg"'

    today = clock.now.date().isoformat()
    stats = (await world.alice.get("/api/v1/stats")).json()
    assert stats["totals"] == {"gallery_views": 3, "image_views": 2, "downloads": 1}
    assert stats["galleries"] == [
        {
            "gallery_id": gallery["id"],
            "title": "Shared",
            "gallery_views": 3,
            "image_views": 2,
            "downloads": 1,
        }
    ]
    assert len(stats["daily"]) == 30
    assert stats["daily"][-1] == {
        "date": today,
        "gallery_views": 3,
        "image_views": 2,
        "downloads": 1,
    }
    assert stats["end"] == today


async def test_the_daily_series_keeps_each_day_apart(world, http, clock):
    _, _, path = await shared_gallery(world)
    first_day = clock.now.date()
    await http.get(path)
    clock.advance(24 * 3600)
    await http.get(path, headers={"user-agent": "Browser 1"})
    await http.get(path, headers={"user-agent": "Browser 2"})
    reader = await world.scoped("stats:read")  # a day later, the first token has expired
    response = await reader.get(
        "/api/v1/stats",
        params={"start": first_day.isoformat(), "end": (first_day + timedelta(1)).isoformat()},
    )
    assert [d["gallery_views"] for d in response.json()["daily"]] == [1, 2]
    assert response.json()["totals"]["gallery_views"] == 3


async def test_a_range_that_ends_before_it_starts_is_400(world):
    response = await world.alice.get(
        "/api/v1/stats", params={"start": "2026-02-02", "end": "2026-02-01"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "start must not be after end",
        "field": "start",
    }


async def test_an_unlisted_gallery_is_shared_but_not_indexed(world, http):
    _, _, path = await shared_gallery(world, visibility="unlisted")
    page = await http.get(path)
    assert page.status_code == 200
    assert page.headers["x-robots-tag"] == "noindex"


async def test_a_private_gallery_has_no_page_and_counts_nothing(world, http):
    gallery, _, path = await shared_gallery(world)
    await world.alice.patch(f"/api/v1/galleries/{gallery['id']}", json={"visibility": "private"})
    assert (await http.get(path)).status_code == 404
    stats = (await world.alice.get("/api/v1/stats")).json()
    assert stats["totals"] == {"gallery_views": 0, "image_views": 0, "downloads": 0}


async def test_another_users_stats_are_separate(world, http):
    _, _, path = await shared_gallery(world)
    await http.get(path)
    stats = (await world.bob.get("/api/v1/stats")).json()
    assert stats["totals"] == {"gallery_views": 0, "image_views": 0, "downloads": 0}
    assert stats["galleries"] == []


async def test_a_gallery_an_app_builds_is_on_its_owners_page(world, http):
    gallery = await world.alice.create_gallery("Built by the app")
    image = (await world.alice.upload(gallery["id"], make_image("WEBP"))).json()
    mine = await http.get("/galleries")  # Alice is signed in on this browser
    assert mine.status_code == 200
    assert "Built by the app" in mine.text
    thumb_src = f"/galleries/{gallery['id']}/images/{image['id']}/thumbnail"
    assert thumb_src in mine.text
    detail = await http.get(f"/galleries/{gallery['id']}")
    assert thumb_src in detail.text
    thumb = await http.get(thumb_src)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"


async def test_the_gallery_pages_need_a_signed_in_owner(world, driver, http):
    gallery = await world.alice.create_gallery("Alice only")
    await driver.sign_out()
    response = await http.get("/galleries")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fgalleries"
    await driver.sign_in("bob@example.com", "battery staple")
    assert (await http.get(f"/galleries/{gallery['id']}")).status_code == 404


async def test_a_range_ending_in_the_first_days_of_year_one_is_400_not_a_server_error(world):
    # The default start (29 days before the end) would fall before 0001-01-01.
    response = await world.alice.get("/api/v1/stats", params={"end": "0001-01-05"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The range must start on or after 0001-01-01",
        "field": "start",
    }


async def test_a_link_killed_by_making_the_gallery_private_stays_dead_when_shared_again(
    world, http
):
    gallery, _, old_path = await shared_gallery(world)
    await world.alice.patch(f"/api/v1/galleries/{gallery['id']}", json={"visibility": "private"})
    again = await world.alice.patch(
        f"/api/v1/galleries/{gallery['id']}", json={"visibility": "public"}
    )
    new_path = again.json()["share_url"].removeprefix("http://127.0.0.1:8000")
    assert new_path != old_path
    assert (await http.get(old_path)).status_code == 404
    assert (await http.get(new_path)).status_code == 200
