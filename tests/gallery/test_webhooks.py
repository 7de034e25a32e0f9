"""Webhooks: signed deliveries to a real receiver on loopback, retries, revocation, SSRF."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

from sqlalchemy import update

from piksend.clients.connected_apps import revoke_access
from piksend.gallery import webhook_signing
from piksend.gallery.delivery import DeliveryPolicy, DeliveryWorker
from piksend.storage.tables import gallery as g
from tests.support.images import make_image

ALL_EVENTS = [
    "gallery.created",
    "gallery.updated",
    "gallery.deleted",
    "image.uploaded",
    "image.deleted",
]


async def register(world, url, events=ALL_EVENTS) -> dict:
    response = await world.alice.post("/api/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()


def verified(received, secret: str, now: int) -> bool:
    return webhook_signing.verify(
        secret, received.headers["x-piksend-signature"], received.body, now=now
    )


async def deliveries(world, hook_id: str) -> list[dict]:
    response = await world.alice.get(f"/api/v1/webhooks/{hook_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_the_receiver_gets_every_event_signed(world, receiver, worker, clock):
    hook = await register(world, receiver.url)
    assert hook["secret"].startswith("whsec_")
    gallery = await world.alice.create_gallery("Party")
    image = (await world.alice.upload(gallery["id"], make_image("PNG"))).json()
    await world.alice.patch(f"/api/v1/galleries/{gallery['id']}", json={"title": "Party!"})
    await world.alice.delete(f"/api/v1/images/{image['id']}")
    await world.alice.delete(f"/api/v1/galleries/{gallery['id']}")

    assert await worker.run_once() == 5

    got = receiver.requests
    assert sorted(r.headers["x-piksend-event"] for r in got) == sorted(ALL_EVENTS)
    now = int(clock.now.timestamp())
    assert all(verified(r, hook["secret"], now) for r in got)
    assert not any(verified(r, "whsec_wrong", now) for r in got)
    for r in got:
        body = json.loads(r.body)
        assert body["id"] == r.headers["x-piksend-delivery"]
        assert body["event"] == r.headers["x-piksend-event"]
        assert r.headers["content-type"] == "application/json"
    by_event = {json.loads(r.body)["event"]: json.loads(r.body)["data"] for r in got}
    assert by_event["image.uploaded"]["id"] == image["id"]
    assert by_event["gallery.updated"]["title"] == "Party!"
    assert by_event["gallery.deleted"] == {"id": gallery["id"]}
    assert [d["status"] for d in await deliveries(world, hook["id"])] == ["succeeded"] * 5


async def test_a_webhook_gets_only_the_events_it_asked_for(world, receiver, worker):
    await register(world, receiver.url, events=["image.uploaded"])
    gallery = await world.alice.create_gallery()
    await world.alice.upload(gallery["id"], make_image("GIF"))
    await worker.run_once()
    assert [r.headers["x-piksend-event"] for r in receiver.requests] == ["image.uploaded"]


async def test_a_failed_delivery_is_retried_after_backoff_with_the_same_id(
    world, receiver, worker, clock
):
    hook = await register(world, receiver.url)
    receiver.fail_next(2)
    await world.alice.create_gallery()

    assert await worker.run_once() == 1
    [log] = await deliveries(world, hook["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("pending", 1, 500)
    assert await worker.run_once() == 0  # not due before its backoff
    clock.advance(30)
    assert await worker.run_once() == 1
    clock.advance(59)
    assert await worker.run_once() == 0  # the second backoff is twice as long
    clock.advance(1)
    assert await worker.run_once() == 1

    assert [r.answered for r in receiver.requests] == [500, 500, 204]
    assert len({r.headers["x-piksend-delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    [log] = await deliveries(world, hook["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("succeeded", 3, 204)


async def test_a_delivery_gives_up_after_the_maximum_attempts(world, receiver, worker, clock):
    hook = await register(world, receiver.url)
    receiver.fail_next(100)
    await world.alice.create_gallery()
    for _ in range(5):
        await worker.run_once()
        clock.advance(120)
    assert len(receiver.requests) == 3
    [log] = await deliveries(world, hook["id"])
    assert (log["status"], log["attempts"], log["next_attempt_at"]) == ("failed", 3, None)


async def test_two_workers_never_send_the_same_delivery(world, receiver, app, clock):
    await register(world, receiver.url)
    for i in range(6):
        await world.alice.create_gallery(f"G{i}")
    ctx = app.state.ctx
    policy = DeliveryPolicy(allow_private=True)
    first = DeliveryWorker(ctx.db, policy=policy, clock=clock)
    second = DeliveryWorker(ctx.db, policy=policy, clock=clock)
    import asyncio

    sent = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(sent) == 6
    ids = [r.headers["x-piksend-delivery"] for r in receiver.requests]
    assert len(ids) == 6
    assert len(set(ids)) == 6


async def test_the_test_event_call_sends_a_signed_test_delivery(world, receiver, worker, clock):
    hook = await register(world, receiver.url, events=["gallery.deleted"])
    response = await world.alice.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert response.status_code == 202
    assert (response.json()["event"], response.json()["status"]) == ("webhook.test", "pending")
    await worker.run_once()
    [got] = receiver.requests
    assert got.headers["x-piksend-event"] == "webhook.test"
    assert got.headers["x-piksend-delivery"] == response.json()["id"]
    assert verified(got, hook["secret"], int(clock.now.timestamp()))


async def test_revoking_the_app_stops_its_webhooks(world, receiver, worker, app, clock):
    hook = await register(world, receiver.url)
    await world.alice.create_gallery("Queued before revocation")
    async with app.state.ctx.db.unit_of_work() as s:
        await revoke_access(s, user_id=world.alice_id, client_id=world.app.client_id, now=clock.now)
    await worker.run_once()
    assert receiver.requests == []
    # the app's tokens are dead, so look through the database
    from sqlalchemy import select

    from piksend.storage.tables import gallery as g

    async with app.state.ctx.db.unit_of_work() as s:
        row = await s.get(g.Webhook, hook["id"])
        statuses = (await s.scalars(select(g.WebhookDelivery.status))).all()
    assert (row.active, row.disabled_reason) == (False, "the user revoked the app's access")
    assert statuses == ["cancelled"]


async def test_another_apps_webhooks_are_not_visible(world, driver, http):
    hook = await register(world, "https://hooks.example.com/x")
    other = await driver.register_app(
        world.alice_id, scopes="webhooks:read webhooks:write", name="Other App"
    )
    token = (await driver.tokens(other))["access_token"]
    headers = {"authorization": f"Bearer {token}"}
    listing = await http.get("/api/v1/webhooks", headers=headers)
    assert listing.json() == {"data": [], "next_cursor": None}
    response = await http.get(f"/api/v1/webhooks/{hook['id']}", headers=headers)
    assert response.status_code == 404


async def test_the_secret_is_shown_only_at_creation(world):
    hook = await register(world, "https://hooks.example.com/x")
    fetched = (await world.alice.get(f"/api/v1/webhooks/{hook['id']}")).json()
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in hook.items() if k != "secret"}


async def test_private_and_plain_http_targets_are_refused_unless_the_operator_allows_them(
    world, app, settings
):
    app.state.ctx.settings = settings.with_(webhooks_allow_private_targets=False)
    refused = {
        "http://hooks.example.com/x": "URL must use https",
        "https://127.0.0.1/x": "URL must not point to a private, loopback or link-local address",
        "https://169.254.169.254/latest": (
            "URL must not point to a private, loopback or link-local address"
        ),
        "https://[::1]/x": "URL must not point to a private, loopback or link-local address",
        "https://localhost/x": "URL must not point to a local host name",
    }
    for url, message in refused.items():
        response = await world.alice.post(
            "/api/v1/webhooks", json={"url": url, "events": ["gallery.created"]}
        )
        assert response.status_code == 422, url
        assert response.json() == {
            "error": "validation_error",
            "error_description": message,
            "field": "url",
        }


async def test_the_worker_refuses_to_deliver_to_a_private_address_when_not_allowed(
    world, receiver, app, clock, caplog
):
    hook = await register(world, receiver.url)
    await world.alice.create_gallery()
    strict = DeliveryWorker(
        app.state.ctx.db, policy=DeliveryPolicy(allow_private=False), clock=clock
    )
    with caplog.at_level(logging.WARNING, logger="piksend.webhooks"):
        await strict.run_once()
    assert receiver.requests == []
    [log] = await deliveries(world, hook["id"])
    assert log["last_error"] == "target not allowed"
    assert refusals(caplog) == [f"webhook {hook['id']}: target refused: URL must use https"]


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "target refused" in r.getMessage()]


async def point_hook_at(app, hook_id: str, url: str) -> None:
    """What registration would refuse, as if the name had resolved publicly back then."""
    async with app.state.ctx.db.unit_of_work() as session:
        await session.execute(update(g.Webhook).where(g.Webhook.id == hook_id).values(url=url))


def resolver_answering(monkeypatch, answers: dict[str, list[str]]) -> None:
    async def getaddrinfo(host, port, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)


async def test_the_delivery_log_never_says_what_an_internal_name_resolves_to_or_whether_it_does(
    world, receiver, app, clock, caplog, monkeypatch
):
    internal = await register(world, receiver.url, events=["gallery.created"])
    missing = await register(world, receiver.url, events=["gallery.created"])
    await point_hook_at(app, internal["id"], "https://db.corp.example/hook")
    await point_hook_at(app, missing["id"], "https://nothing.corp.example/hook")
    resolver_answering(monkeypatch, {"db.corp.example": ["10.1.2.3"]})
    await world.alice.create_gallery()
    strict = DeliveryWorker(
        app.state.ctx.db, policy=DeliveryPolicy(allow_private=False), clock=clock
    )
    with caplog.at_level(logging.WARNING, logger="piksend.webhooks"):
        await strict.run_once()

    assert receiver.requests == []
    for hook in (internal, missing):
        [log] = await deliveries(world, hook["id"])
        assert (log["last_status_code"], log["last_error"]) == (None, "target not allowed")
    assert sorted(refusals(caplog)) == sorted(
        [
            f"webhook {internal['id']}: target refused: "
            "host resolves to a non-public address (10.1.2.3)",
            f"webhook {missing['id']}: target refused: could not resolve host",
        ]
    )


async def test_a_receiver_answering_an_endless_body_does_not_hold_the_worker(world, app, clock):
    import asyncio

    import httpx

    async def endless():
        while True:
            yield b"x" * 1024
            await asyncio.sleep(0.001)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    hook = await register(world, "http://127.0.0.1:9/hooks", events=["gallery.created"])
    await world.alice.create_gallery()
    worker = DeliveryWorker(
        app.state.ctx.db,
        policy=DeliveryPolicy(allow_private=True),
        clock=clock,
        transport=httpx.MockTransport(answer),
    )
    # Only the status line matters: the body is never read, however long it is.
    assert await asyncio.wait_for(worker.run_once(), timeout=5) == 1
    [log] = await deliveries(world, hook["id"])
    assert (log["status"], log["last_status_code"]) == ("succeeded", 200)


async def test_events_are_queued_only_while_the_app_can_still_read_their_data(driver, alice, app):
    from piksend.gallery import webhooks as wh
    from piksend.storage.oauth import SqlOAuthStore

    registered = await driver.register_app(alice.id, scopes="galleries:read webhooks:write")
    ctx = app.state.ctx
    async with ctx.db.unit_of_work() as s:
        store = SqlOAuthStore(s)
        wide = await store.create_consent(
            user_id=alice.id,
            client_id=registered.client_id,
            scope=("galleries:read", "webhooks:write"),
            now=ctx.now(),
        )
        await store.create_consent(
            user_id=alice.id,
            client_id=registered.client_id,
            scope=("webhooks:write",),
            now=ctx.now(),
        )
        await wh.create_webhook(
            s,
            user_id=alice.id,
            client_id=registered.client_id,
            url="https://hooks.example.com/in",
            events=["gallery.created"],
            description="",
            allow_private=True,
            now=ctx.now(),
        )
        queued = await wh.enqueue_event(
            s, user_id=alice.id, event="gallery.created", data={}, now=ctx.now()
        )
        assert queued == 1
        await store.revoke_consent(wide, ctx.now())
        queued = await wh.enqueue_event(
            s, user_id=alice.id, event="gallery.created", data={}, now=ctx.now()
        )
        assert queued == 0
