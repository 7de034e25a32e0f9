"""The MCP tools through the ASGI app on both databases: each a thin adapter over the gallery
services, answering structured content equal to the /api/v1 answer, and a domain error as a
tool error the model can read."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.support.images import make_image
from tests.support.mcp_client import McpHttp
from tests.support.public_client import static_site

pytestmark = pytest.mark.usefixtures("app")


def without_times(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in ("id", "created_at", "updated_at")}


async def api_get(world, mcp: McpHttp, path: str) -> dict:
    """The same object read through /api/v1 with an API token of the same user."""
    token = (await world.driver.tokens(world.registered))["access_token"]
    answer = await world.http.get(path, headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_gallery_is_created_listed_got_changed_and_deleted_through_the_tools(world):
    mcp = await world.everything()

    created = await mcp.structured(
        "create_gallery", title="Harbour", description="Boats", visibility="unlisted"
    )
    assert without_times(created) == {
        "title": "Harbour",
        "description": "Boats",
        "visibility": "unlisted",
        "cover_image_id": None,
        "image_count": 0,
        "share_url": created["share_url"],
        "keep_location": False,
    }
    assert created["share_url"].startswith("http://127.0.0.1:8000/g/")
    assert await mcp.structured("list_galleries") == {"data": [created], "next_cursor": None}
    assert await mcp.structured("get_gallery", gallery_id=created["id"]) == created

    changed = await mcp.structured(
        "update_gallery", gallery_id=created["id"], title="Harbour at dawn", visibility="private"
    )
    assert without_times(changed) == {
        "title": "Harbour at dawn",
        "description": "Boats",
        "visibility": "private",
        "cover_image_id": None,
        "image_count": 0,
        "share_url": None,
        "keep_location": False,
    }

    assert await mcp.structured("delete_gallery", gallery_id=created["id"]) == {
        "id": created["id"],
        "deleted": True,
    }
    assert await mcp.structured("list_galleries") == {"data": [], "next_cursor": None}


async def test_a_tools_structured_content_equals_the_api_answer_for_the_same_gallery(world):
    mcp = await world.everything()
    created = await mcp.structured("create_gallery", title="Same either way")

    api = await api_get(world, mcp, f"/api/v1/galleries/{created['id']}")

    assert await mcp.structured("get_gallery", gallery_id=created["id"]) == api


async def test_an_image_uploaded_as_base64_is_listed_got_and_set_as_the_cover(world):
    mcp = await world.everything()
    gallery = await mcp.structured("create_gallery", title="Prints")
    data = make_image("PNG", size=(40, 30))

    image = await mcp.structured(
        "upload_image",
        gallery_id=gallery["id"],
        data_base64=base64.b64encode(data).decode(),
        filename="red.png",
        title="Red",
    )

    assert without_times(image) == {
        "gallery_id": gallery["id"],
        "title": "Red",
        "filename": "red.png",
        "mime_type": "image/png",
        "width": 40,
        "height": 30,
        "size_bytes": len(data),
        "content_url": f"http://127.0.0.1:8000/api/v1/images/{image['id']}/content",
        "thumbnail_url": (
            f"http://127.0.0.1:8000/api/v1/images/{image['id']}/content?variant=thumbnail"
        ),
    }
    assert await mcp.structured("list_images", gallery_id=gallery["id"]) == {
        "data": [image],
        "next_cursor": None,
    }
    assert await mcp.structured("get_image", image_id=image["id"]) == await api_get(
        world, mcp, f"/api/v1/images/{image['id']}"
    )
    covered = await mcp.structured(
        "update_gallery", gallery_id=gallery["id"], cover_image_id=image["id"]
    )
    assert (covered["cover_image_id"], covered["image_count"]) == (image["id"], 1)
    cleared = await mcp.structured(
        "update_gallery", gallery_id=gallery["id"], clear_cover_image=True
    )
    assert cleared["cover_image_id"] is None


async def test_an_image_named_by_url_is_fetched_through_the_safe_fetcher(world, tmp_path: Path):
    mcp = await world.everything()
    gallery = await mcp.structured("create_gallery", title="From the web")
    site = tmp_path / "site"
    site.mkdir()
    data = make_image("JPEG", size=(64, 48))
    (site / "dawn.jpg").write_bytes(data)

    # Private targets are allowed in tests (webhooks_allow_private_targets), so http on loopback.
    with static_site(site, host="127.0.0.1") as base:
        image = await mcp.structured(
            "upload_image", gallery_id=gallery["id"], url=f"{base}/dawn.jpg"
        )
        missing = await mcp.call("upload_image", gallery_id=gallery["id"], url=f"{base}/no.jpg")

    assert (image["filename"], image["mime_type"], image["size_bytes"]) == (
        "dawn.jpg",
        "image/jpeg",
        len(data),
    )
    assert missing == {
        "content": [
            {
                "type": "text",
                "text": "Error executing tool upload_image: "
                "The image could not be fetched: the URL answered 404",
            }
        ],
        "isError": True,
    }


async def test_an_image_url_refused_by_the_ssrf_check_is_a_tool_error(world, settings, app):
    app.state.ctx.settings = settings.with_(webhooks_allow_private_targets=False)
    mcp = await world.everything()
    gallery = await mcp.structured("create_gallery", title="Guarded")

    result = await mcp.call(
        "upload_image", gallery_id=gallery["id"], url="https://127.0.0.1/admin.png"
    )

    assert result == {
        "content": [
            {
                "type": "text",
                "text": "Error executing tool upload_image: "
                "The image could not be fetched: target not allowed",
            }
        ],
        "isError": True,
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "Give exactly one of data_base64 and url"),
        (
            {"data_base64": "aGk=", "url": "https://example.com/a.png"},
            "Give exactly one of data_base64 and url",
        ),
        ({"data_base64": "not base64!"}, "data_base64 is not valid base64"),
        ({"data_base64": "aGk="}, "The file is not a JPEG, PNG, GIF or WebP image."),
    ],
)
async def test_an_upload_the_tool_cannot_take_is_a_tool_error_saying_why(world, arguments, message):
    mcp = await world.everything()
    gallery = await mcp.structured("create_gallery", title="Picky")

    result = await mcp.call("upload_image", gallery_id=gallery["id"], **arguments)

    assert result == {
        "content": [{"type": "text", "text": f"Error executing tool upload_image: {message}"}],
        "isError": True,
    }


async def test_an_image_over_the_upload_limit_is_a_tool_error(world, settings):
    mcp = await world.everything()
    gallery = await mcp.structured("create_gallery", title="Too big")
    oversize = base64.b64encode(b"\x89PNG" + b"0" * settings.max_upload_bytes).decode()

    result = await mcp.call("upload_image", gallery_id=gallery["id"], data_base64=oversize)

    assert result == {
        "content": [
            {
                "type": "text",
                "text": "Error executing tool upload_image: "
                f"The image is larger than {settings.max_upload_bytes} bytes",
            }
        ],
        "isError": True,
    }


async def test_another_users_gallery_is_not_found_through_the_tools(world):
    mcp = await world.everything()
    gallery = await mcp.structured("create_gallery", title="Alice's")
    bob = await world.bob()

    result = await bob.call("get_gallery", gallery_id=gallery["id"])

    assert result == {
        "content": [{"type": "text", "text": "Error executing tool get_gallery: No such gallery"}],
        "isError": True,
    }


async def test_stats_cover_the_requested_days_and_webhooks_list_this_apps_receivers(world):
    mcp = await world.everything()
    gallery = await mcp.structured("create_gallery", title="Counted")

    stats = await mcp.structured("get_stats", start="2026-11-30", end="2026-12-01")
    webhooks = await mcp.structured("list_webhooks")

    zero = {"gallery_views": 0, "image_views": 0, "downloads": 0}
    assert stats == {
        "start": "2026-11-30",
        "end": "2026-12-01",
        "totals": zero,
        "galleries": [],
        "daily": [{**zero, "date": "2026-11-30"}, {**zero, "date": "2026-12-01"}],
    }
    assert webhooks == {"data": [], "next_cursor": None}
    assert gallery["image_count"] == 0


async def test_a_range_the_stats_refuse_is_a_tool_error(world):
    mcp = await world.everything()

    result = await mcp.call("get_stats", start="2026-12-02", end="2026-12-01")

    assert result == {
        "content": [
            {
                "type": "text",
                "text": "Error executing tool get_stats: start must not be after end",
            }
        ],
        "isError": True,
    }
