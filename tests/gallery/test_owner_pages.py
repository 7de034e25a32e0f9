"""The owner's gallery pages (issue 17, item 5) through HTTP, on SQLite and PostgreSQL: every
change goes through the gallery services with a CSRF token, another user's gallery is 404, and
uploads from the page keep the API's rules (size, type, quotas, location removal)."""

from __future__ import annotations

import re

import pytest

from tests.support.driver import csrf_of
from tests.support.exif_images import LATITUDE, rationals
from tests.support.exif_images import photo as located_photo
from tests.support.images import make_image

NEXT = re.compile(r"^/galleries/(gal_[\w-]+)\?done=created$")


async def token(http, path="/galleries/new") -> str:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def create(http, title="Summer", description="", visibility="private") -> str:
    response = await http.post(
        "/galleries/new",
        data={
            "csrf_token": await token(http),
            "title": title,
            "description": description,
            "visibility": visibility,
        },
    )
    assert response.status_code == 303, response.text
    found = NEXT.match(response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def files(*items):
    return [("file", item) for item in items]


async def upload(http, gallery_id, *items, accept=None):
    headers = {"accept": accept} if accept else {}
    return await http.post(
        f"/galleries/{gallery_id}/images",
        data={"csrf_token": await token(http, f"/galleries/{gallery_id}")},
        files=files(*items),
        headers=headers,
    )


async def test_the_main_menu_links_to_the_galleries_when_signed_in(world, http):
    page = await http.get("/galleries")
    assert '<a href="/galleries" aria-current="page">Galleries</a>' in page.text


async def test_a_gallery_created_on_the_page_is_the_one_the_api_reads(world, http):
    gallery_id = await create(http, "Summer", "By the sea", "unlisted")

    read = (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()
    assert (read["title"], read["description"], read["visibility"]) == (
        "Summer",
        "By the sea",
        "unlisted",
    )
    assert read["keep_location"] is False
    page = await http.get(f"/galleries/{gallery_id}?done=created")
    assert "The gallery was created." in page.text
    assert read["share_url"] in page.text


async def test_a_gallery_without_a_title_is_refused_with_the_reason_and_nothing_is_made(
    world, http
):
    response = await http.post(
        "/galleries/new",
        data={"csrf_token": await token(http), "title": "  ", "description": "kept"},
    )
    assert response.status_code == 422
    assert '<p class="error" id="e-title">Give the gallery a title.</p>' in response.text
    assert ">kept</textarea>" in response.text
    assert (await world.alice.get("/api/v1/galleries")).json()["data"] == []


async def test_a_title_over_200_characters_is_refused(world, http):
    response = await http.post(
        "/galleries/new", data={"csrf_token": await token(http), "title": "x" * 201}
    )
    assert response.status_code == 422
    assert "The title can have at most 200 characters." in response.text


async def test_renaming_and_describing_changes_the_gallery(world, http):
    gallery_id = await create(http, "Draft")
    response = await http.post(
        f"/galleries/{gallery_id}/edit",
        data={
            "csrf_token": await token(http, f"/galleries/{gallery_id}/edit"),
            "title": "Final",
            "description": "Two weeks\nin the hills",
        },
    )
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/galleries/{gallery_id}?done=saved",
    )
    read = (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()
    assert (read["title"], read["description"]) == ("Final", "Two weeks\nin the hills")


async def test_deleting_asks_first_and_then_deletes_the_gallery_and_its_photos(world, http):
    gallery_id = await create(http, "Old")
    await upload(http, gallery_id, ("a.png", make_image("PNG"), "image/png"))

    confirm = await http.get(f"/galleries/{gallery_id}/delete")
    assert confirm.status_code == 200
    assert "Delete <strong>Old</strong> and its 1 photo?" in confirm.text
    assert (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).status_code == 200

    response = await http.post(
        f"/galleries/{gallery_id}/delete", data={"csrf_token": csrf_of(confirm.text)}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/galleries?deleted=1")
    assert (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).status_code == 404
    assert (
        "The gallery and its photos were deleted." in (await http.get("/galleries?deleted=1")).text
    )


@pytest.mark.parametrize("action", ["edit", "visibility", "delete", "images"])
async def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(world, http, action):
    gallery_id = await create(http, "Guarded")
    data = {"title": "Changed", "visibility": "public"}
    kw = {"files": files(("a.png", make_image("PNG"), "image/png"))} if action == "images" else {}

    response = await http.post(f"/galleries/{gallery_id}/{action}", data=data, **kw)

    assert response.status_code == 403
    assert "This form has expired." in response.text
    read = (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()
    assert (read["title"], read["visibility"], read["image_count"]) == ("Guarded", "private", 0)


async def test_creating_without_a_csrf_token_makes_nothing(world, http):
    response = await http.post("/galleries/new", data={"title": "Forged"})
    assert response.status_code == 403
    assert (await world.alice.get("/api/v1/galleries")).json()["data"] == []


@pytest.mark.parametrize("path", ["", "/edit", "/delete"])
async def test_another_users_gallery_pages_are_404(world, http, path):
    bobs = await world.bob.create_gallery("Bob's")
    response = await http.get(f"/galleries/{bobs['id']}{path}")
    assert response.status_code == 404
    assert "Bob&#39;s" not in response.text


@pytest.mark.parametrize("action", ["edit", "visibility", "delete", "images"])
async def test_another_users_gallery_cannot_be_changed_from_the_pages(world, http, action):
    bobs = await world.bob.create_gallery("Bob's", description="his")
    data = {
        "csrf_token": await token(http),
        "title": "Taken",
        "description": "",
        "visibility": "public",
    }
    kw = {"files": files(("a.png", make_image("PNG"), "image/png"))} if action == "images" else {}

    response = await http.post(f"/galleries/{bobs['id']}/{action}", data=data, **kw)

    assert response.status_code == 404
    read = (await world.bob.get(f"/api/v1/galleries/{bobs['id']}")).json()
    assert (read["title"], read["visibility"], read["image_count"]) == ("Bob's", "private", 0)


async def test_signed_out_visitors_are_sent_to_sign_in(world, driver, http):
    await driver.sign_out()
    response = await http.get("/galleries/new")
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/login?next=%2Fgalleries%2Fnew",
    )


async def test_several_files_in_one_post_are_uploaded_and_each_refusal_is_named(world, http):
    gallery_id = await create(http, "Batch")
    response = await upload(
        http,
        gallery_id,
        ("one.jpg", make_image("JPEG"), "image/jpeg"),
        ("two.png", make_image("PNG"), "image/png"),
        ("notes.txt", b"not an image at all", "text/plain"),
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/galleries/{gallery_id}?notice=")

    shown = await http.get(location)
    assert "<p>2 photos uploaded.</p>" in shown.text
    assert "<p>1 file could not be uploaded:</p>" in shown.text
    assert "<li><strong>notes.txt</strong>: " in shown.text
    listed = (await world.alice.get(f"/api/v1/galleries/{gallery_id}/images")).json()["data"]
    assert sorted(i["filename"] for i in listed) == ["one.jpg", "two.png"]


async def test_a_file_over_the_size_limit_is_refused_and_the_others_kept(world, http, settings):
    gallery_id = await create(http, "Sizes")
    big = b"\xff\xd8" + b"\0" * settings.max_upload_bytes
    response = await upload(
        http,
        gallery_id,
        ("big.jpg", big, "image/jpeg"),
        ("small.png", make_image("PNG"), "image/png"),
    )
    shown = await http.get(response.headers["location"])
    assert (
        f"<li><strong>big.jpg</strong>: The file is larger than {settings.max_upload_bytes} "
        "bytes.</li>"
    ) in shown.text
    assert (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()["image_count"] == 1


async def test_a_page_upload_loses_the_photos_location_as_an_api_upload_does(world, http):
    gallery_id = await create(http, "Trip")
    original = located_photo("JPEG")
    await upload(http, gallery_id, ("trip.jpg", original, "image/jpeg"))

    image = (await world.alice.get(f"/api/v1/galleries/{gallery_id}/images")).json()["data"][0]
    stored = (await world.alice.get(f"/api/v1/images/{image['id']}/content")).content
    assert rationals(LATITUDE) in original
    assert rationals(LATITUDE) not in stored


async def test_a_script_upload_gets_a_json_answer_per_file(world, http):
    gallery_id = await create(http, "Scripted")
    ok = await upload(
        http, gallery_id, ("a.png", make_image("PNG"), "image/png"), accept="application/json"
    )
    assert (ok.status_code, ok.json()) == (201, {"uploaded": 1, "refused": []})

    refused = await upload(
        http, gallery_id, ("a.txt", b"plain text", "text/plain"), accept="application/json"
    )
    assert refused.status_code == 422
    assert refused.json()["uploaded"] == 0
    assert [r["filename"] for r in refused.json()["refused"]] == ["a.txt"]


async def test_posting_no_file_says_to_choose_one(world, http):
    gallery_id = await create(http, "Empty")
    response = await http.post(
        f"/galleries/{gallery_id}/images",
        data={"csrf_token": await token(http, f"/galleries/{gallery_id}")},
        files=[("file", ("", b"", "application/octet-stream"))],
    )
    shown = await http.get(response.headers["location"])
    assert "Choose at least one photo to upload." in shown.text


async def test_a_notice_not_signed_by_the_server_is_not_shown(world, http):
    gallery_id = await create(http, "Notices")
    forged = "eyJuIjo5OSwiciI6W119.0000000000000000000000000000000000000000000000000000000000000000"
    shown = await http.get(f"/galleries/{gallery_id}?notice={forged}")
    assert shown.status_code == 200
    assert "99 photos uploaded" not in shown.text
    assert 'id="upload-notice"' not in shown.text


async def test_making_a_gallery_shared_shows_its_link_and_private_ends_it(world, http):
    gallery_id = await create(http, "Shared later")
    page = await http.get(f"/galleries/{gallery_id}")
    assert "This gallery is private" in page.text

    response = await http.post(
        f"/galleries/{gallery_id}/visibility",
        data={"csrf_token": csrf_of(page.text), "visibility": "unlisted"},
    )
    assert response.headers["location"] == f"/galleries/{gallery_id}?done=visibility#sharing"
    share_url = (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()["share_url"]
    page = await http.get(f"/galleries/{gallery_id}")
    assert (
        f'<code id="share-link" class="credential" aria-labelledby="share-link-label">{share_url}</code>'
        in page.text
    )
    share_path = share_url.removeprefix("http://127.0.0.1:8000")
    assert (await http.get(share_path)).status_code == 200

    await http.post(
        f"/galleries/{gallery_id}/visibility",
        data={"csrf_token": csrf_of(page.text), "visibility": "private"},
    )
    assert (await http.get(share_path)).status_code == 404


async def test_an_unknown_visibility_is_refused(world, http):
    gallery_id = await create(http, "Odd")
    response = await http.post(
        f"/galleries/{gallery_id}/visibility",
        data={"csrf_token": await token(http), "visibility": "everyone"},
    )
    assert response.status_code == 422
    read = (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()
    assert read["visibility"] == "private"


async def test_the_storage_quota_refuses_a_page_upload_with_its_reason(world, http, app):
    app.state.ctx.settings = app.state.ctx.settings.with_(storage_quota_bytes=1)
    gallery_id = await create(http, "Full")
    response = await upload(
        http, gallery_id, ("a.png", make_image("PNG"), "image/png"), accept="application/json"
    )
    assert response.status_code == 409
    assert response.json()["refused"][0]["error"].startswith(
        "This upload would pass your storage quota of 1 bytes"
    )


async def test_the_hourly_upload_limit_refuses_with_when_to_retry(world, http, app):
    app.state.ctx.settings = app.state.ctx.settings.with_(uploads_per_hour=1)
    gallery_id = await create(http, "Busy")
    response = await upload(
        http,
        gallery_id,
        ("a.png", make_image("PNG"), "image/png"),
        ("b.png", make_image("PNG", color=(1, 2, 3)), "image/png"),
    )
    shown = await http.get(response.headers["location"])
    assert "<p>1 photo uploaded.</p>" in shown.text
    assert "<li><strong>b.png</strong>: Too many uploads in the last hour" in shown.text


async def test_the_stats_page_draws_the_views_and_tables_them(world, http, clock):
    gallery_id = await create(http, "Popular", visibility="public")
    share_url = (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()["share_url"]
    for visitor in range(3):
        await http.get(
            share_url.removeprefix("http://127.0.0.1:8000"), headers={"user-agent": f"B{visitor}"}
        )
    today = clock.now.date().isoformat()

    page = await http.get("/galleries/stats?days=7")

    assert page.status_code == 200
    assert (
        '<svg viewBox="0 0 720 260" role="img" aria-labelledby="chart-title chart-desc"'
        in page.text
    )
    assert f"<title>{today}: 3 gallery views, 0 photo views, 0 downloads</title>" in page.text
    assert page.text.count('<g class="day">') == 7
    assert f'<tr><th scope="row">{today}</th><td>3</td><td>0</td><td>0</td></tr>' in page.text
    assert f'<a href="/galleries/{gallery_id}">Popular</a>' in page.text


async def test_a_form_post_past_the_pages_body_limit_gets_a_page_and_uploads_nothing(
    world, http, settings
):
    gallery_id = await create(http, "Heavy")
    limit = (settings.max_upload_bytes + 64 * 1024) * 10
    response = await http.post(
        f"/galleries/{gallery_id}/images",
        content=b"x" * (limit + 1),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert (response.status_code, response.headers["content-type"]) == (
        413,
        "text/html; charset=utf-8",
    )
    assert f"This upload is larger than {limit} bytes, so nothing was uploaded." in response.text
    assert (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()["image_count"] == 0


async def test_ten_files_of_the_largest_size_fit_the_pages_body_limit(world, http, settings):
    gallery_id = await create(http, "Many")
    filler = b"\xff\xd8" + b"\0" * (settings.max_upload_bytes - 2)  # exactly the limit each
    many = [(f"{i}.jpg", filler, "image/jpeg") for i in range(10)]
    response = await upload(http, gallery_id, *many)
    assert response.status_code == 303  # every one read and refused as not an image, not a 413
    shown = await http.get(response.headers["location"])
    assert "<p>10 files could not be uploaded:</p>" in shown.text


async def test_more_files_than_the_form_takes_are_refused_whole_with_the_limit(world, http):
    gallery_id = await create(http, "Too many")
    eleven = [(f"{i}.png", make_image("PNG"), "image/png") for i in range(11)]
    response = await upload(http, gallery_id, *eleven)
    assert response.status_code == 400
    assert "Too many files. Maximum number of files is 10." in response.text
    assert (await world.alice.get(f"/api/v1/galleries/{gallery_id}")).json()["image_count"] == 0
