"""Every endpoint: its scope passes, a token without it gets 403 insufficient_scope, and
another user's object is 404."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.images import make_image


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scope: str
    ok: int
    body: dict | None = None
    upload: bool = False
    also_needs: tuple[str, ...] = ()  # e.g. the read scope of the events a webhook receives

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/api/v1/galleries", "galleries:read", 200),
    Endpoint("POST", "/api/v1/galleries", "galleries:write", 201, {"title": "New"}),
    Endpoint("GET", "/api/v1/galleries/{gallery}", "galleries:read", 200),
    Endpoint("PATCH", "/api/v1/galleries/{gallery}", "galleries:write", 200, {"title": "B"}),
    Endpoint("DELETE", "/api/v1/galleries/{gallery}", "galleries:write", 204),
    Endpoint("GET", "/api/v1/galleries/{gallery}/images", "images:read", 200),
    Endpoint("POST", "/api/v1/galleries/{gallery}/images", "images:write", 201, upload=True),
    Endpoint("GET", "/api/v1/images/{image}", "images:read", 200),
    Endpoint("PATCH", "/api/v1/images/{image}", "images:write", 200, {"title": "T"}),
    Endpoint("DELETE", "/api/v1/images/{image}", "images:write", 204),
    Endpoint("GET", "/api/v1/images/{image}/content", "images:read", 200),
    Endpoint("GET", "/api/v1/stats", "stats:read", 200),
    Endpoint("GET", "/api/v1/webhooks", "webhooks:read", 200),
    Endpoint(
        "POST",
        "/api/v1/webhooks",
        "webhooks:write",
        201,
        {"url": "https://hooks.example.com/in", "events": ["gallery.created"]},
        also_needs=("galleries:read",),
    ),
    Endpoint("GET", "/api/v1/webhooks/{webhook}", "webhooks:read", 200),
    Endpoint("PATCH", "/api/v1/webhooks/{webhook}", "webhooks:write", 200, {"active": False}),
    Endpoint("DELETE", "/api/v1/webhooks/{webhook}", "webhooks:write", 204),
    Endpoint("GET", "/api/v1/webhooks/{webhook}/deliveries", "webhooks:read", 200),
    Endpoint("POST", "/api/v1/webhooks/{webhook}/test", "webhooks:write", 202),
]
WITH_OBJECT = [e for e in ENDPOINTS if "{" in e.path]
# RFC 9728 §5.1: every challenge of the API says where its protected-resource metadata is.
API_METADATA = (
    'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/api/v1"'
)


async def alices_objects(world) -> dict[str, str]:
    gallery = await world.alice.create_gallery("Alice's")
    image = await world.alice.upload(gallery["id"], make_image("PNG"))
    hook = await world.alice.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/a", "events": ["image.uploaded"]},
    )
    return {"gallery": gallery["id"], "image": image.json()["id"], "webhook": hook.json()["id"]}


async def call(api, endpoint: Endpoint, ids: dict[str, str]):
    kwargs = {}
    if endpoint.body is not None:
        kwargs["json"] = endpoint.body
    if endpoint.upload:
        kwargs["files"] = {"file": ("a.gif", make_image("GIF"), "image/gif")}
    return await api.request(endpoint.method, endpoint.path.format(**ids), **kwargs)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_a_token_holding_only_the_named_scope_is_enough(world, endpoint):
    ids = await alices_objects(world)
    response = await call(await world.scoped(endpoint.scope, *endpoint.also_needs), endpoint, ids)
    assert response.status_code == endpoint.ok, response.text


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_a_token_with_every_other_scope_gets_insufficient_scope(world, endpoint):
    ids = await alices_objects(world)
    response = await call(await world.without(endpoint.scope), endpoint, ids)
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": f"This request needs the {endpoint.scope} scope",
    }
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="piksend", error="insufficient_scope", '
        f'error_description="This request needs the {endpoint.scope} scope", '
        f'scope="{endpoint.scope}", {API_METADATA}'
    )


@pytest.mark.parametrize("endpoint", WITH_OBJECT, ids=str)
async def test_another_users_object_is_not_found(world, endpoint):
    ids = await alices_objects(world)
    response = await call(world.bob, endpoint, ids)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert set(response.json()) == {"error", "error_description"}


@pytest.mark.parametrize("endpoint", ENDPOINTS[:3], ids=str)
async def test_no_token_at_all_is_401_without_an_error_code(world, http, endpoint):
    response = await http.request(endpoint.method, endpoint.path.format(gallery="gal_x"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="piksend", scope="{endpoint.scope}", {API_METADATA}'
    )


async def test_read_only_app_lists_galleries_and_downloads_images_and_can_do_nothing_else(
    world, http
):
    gallery = await world.alice.create_gallery("Trip")
    png = make_image("PNG")
    image = (await world.alice.upload(gallery["id"], png)).json()
    reader = await world.scoped("galleries:read", "images:read")

    listing = await reader.get("/api/v1/galleries")
    assert [g["id"] for g in listing.json()["data"]] == [gallery["id"]]
    images = await reader.get(f"/api/v1/galleries/{gallery['id']}/images")
    assert [i["id"] for i in images.json()["data"]] == [image["id"]]
    content = await reader.get(f"/api/v1/images/{image['id']}/content")
    assert content.content == png

    refused = [
        await reader.post("/api/v1/galleries", json={"title": "x"}),
        await reader.patch(f"/api/v1/galleries/{gallery['id']}", json={"title": "x"}),
        await reader.delete(f"/api/v1/galleries/{gallery['id']}"),
        await reader.upload(gallery["id"], png),
        await reader.delete(f"/api/v1/images/{image['id']}"),
        await reader.get("/api/v1/stats"),
        await reader.get("/api/v1/webhooks"),
        await reader.get("/api/v1/me"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert (await world.alice.get(f"/api/v1/galleries/{gallery['id']}")).json()["title"] == "Trip"


@pytest.mark.parametrize(
    ("events", "needed"),
    [(["gallery.created"], "galleries:read"), (["image.uploaded"], "images:read")],
)
async def test_subscribing_to_events_needs_the_scope_that_reads_their_data(world, events, needed):
    api = await world.scoped("webhooks:write", "webhooks:read")
    response = await api.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.com/in", "events": events}
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": f"This request needs the {needed} scope",
    }
