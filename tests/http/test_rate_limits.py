"""Rate limits and quotas (issue 15, item 1) through HTTP, on SQLite and PostgreSQL: each limit
with its 429, ``Retry-After`` (RFC 6585 §4) and RateLimit fields
(draft-ietf-httpapi-ratelimit-headers-10), exact bodies, and two nodes sharing the counts."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import event

from piksend.app import create_app
from piksend.oauth.scopes import SCOPES
from tests.conftest import ISSUER
from tests.gallery.conftest import Api
from tests.support.driver import OAuthDriver
from tests.support.images import make_image

WINDOW = 900  # the client-authentication window, seconds
INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "Invalid client_id or client_secret",
}


def too_many_failures(seconds: int) -> dict:
    return {
        "error": "too_many_requests",
        "error_description": (
            f"Too many failed client authentications; retry after {seconds} seconds"
        ),
    }


def too_many_requests(seconds: int) -> dict:
    return {
        "error": "too_many_requests",
        "error_description": f"Too many requests; retry after {seconds} seconds",
    }


def align(clock, window: int) -> None:
    """Move the test clock to the start of an aligned window, so its resets are exact."""
    clock.advance(window - int(clock().timestamp()) % window)


def limits(response: httpx.Response) -> dict:
    names = ("retry-after", "ratelimit-policy", "ratelimit")
    return {name: response.headers[name] for name in names if name in response.headers}


@asynccontextmanager
async def node(settings, clock, address="127.0.0.1"):
    """One app instance (a node) on the test's database, reached from ``address``."""
    application = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(
        app=application, raise_app_exceptions=False, client=(address, 5)
    )
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            yield OAuthDriver(client, application)
    finally:
        await application.state.ctx.db.dispose()


@pytest.fixture
def tight(settings):
    return settings.with_(
        client_auth_failures_per_client=3,
        client_auth_failures_per_address=5,
        api_requests_per_token=3,
        api_requests_per_app=5,
        webhooks_per_app=2,
        webhook_tests_per_minute=2,
        uploads_per_hour=2,
        upload_bytes_per_hour=10_000_000,
        storage_quota_bytes=10_000_000,
    )


@pytest.fixture
async def one(tight, clock):
    async with node(tight, clock) as driver:
        alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
        registered = await driver.register_app(alice.id, scopes=" ".join(SCOPES))
        yield driver, registered


def wrong(app, endpoint: str) -> dict:
    body = {"client_id": app.client_id, "client_secret": "pks_cs_wrong"}
    if endpoint == "/api/oauth/token":
        return {**body, "grant_type": "refresh_token", "refresh_token": "pks_rt_unknown"}
    return {**body, "token": "pks_at_unknown"}


async def test_wrong_secrets_for_one_client_are_429_with_retry_after_past_the_limit(one, clock):
    driver, registered = one
    align(clock, WINDOW)
    answers = [
        await driver.http.post("/api/oauth/token", json=wrong(registered, "/api/oauth/token"))
        for _ in range(4)
    ]
    assert [(r.status_code, r.json()) for r in answers] == [(401, INVALID_CLIENT)] * 3 + [
        (429, too_many_failures(WINDOW))
    ]
    assert limits(answers[3]) == {
        "retry-after": "900",
        "ratelimit-policy": (
            '"client-auth-per-address";q=5;w=900, "client-auth-per-client";q=3;w=900'
        ),
        "ratelimit": '"client-auth-per-address";r=1;t=900, "client-auth-per-client";r=0;t=900',
    }
    assert answers[3].headers["cache-control"] == "no-store"
    assert [limits(r) for r in answers[:3]] == [{}] * 3  # a 401 makes no promise


async def test_introspection_and_revocation_failures_count_with_the_token_endpoints(one, clock):
    driver, registered = one
    align(clock, WINDOW)
    answers = []
    for endpoint in ("/api/oauth/token", "/api/oauth/introspect", "/api/oauth/revoke"):
        answers.append(await driver.http.post(endpoint, json=wrong(registered, endpoint)))
    refused = await driver.http.post("/api/oauth/revoke", json=wrong(registered, "x"))
    assert [r.status_code for r in answers] == [401, 401, 401]
    assert (refused.status_code, refused.json()) == (429, too_many_failures(WINDOW))
    assert refused.headers["retry-after"] == "900"


async def test_the_limit_ends_with_its_window_and_retry_after_says_when(one, clock):
    driver, registered = one
    align(clock, WINDOW)
    for _ in range(3):
        await driver.http.post("/api/oauth/token", json=wrong(registered, "/api/oauth/token"))
    clock.advance(WINDOW - 10)
    late = await driver.http.post("/api/oauth/token", json=wrong(registered, "/api/oauth/token"))
    assert (late.status_code, late.json(), late.headers["retry-after"]) == (
        429,
        too_many_failures(10),
        "10",
    )
    clock.advance(10)
    again = await driver.http.post("/api/oauth/token", json=wrong(registered, "/api/oauth/token"))
    assert (again.status_code, again.json()) == (401, INVALID_CLIENT)


async def test_failures_for_many_clients_from_one_address_are_limited_per_address(tight, clock):
    align(clock, WINDOW)
    async with node(tight, clock, "127.0.0.2") as attacker, node(tight, clock, "127.0.0.3") as fine:
        statuses = [
            (
                await attacker.http.post(
                    "/api/oauth/token",
                    json={
                        "grant_type": "refresh_token",
                        "refresh_token": "pks_rt_x",
                        "client_id": f"app-{n}",
                        "client_secret": "guess",
                    },
                )
            ).status_code
            for n in range(6)
        ]
        elsewhere = await fine.http.post(
            "/api/oauth/token",
            json={
                "grant_type": "refresh_token",
                "refresh_token": "pks_rt_x",
                "client_id": "app-9",
                "client_secret": "x",
            },
        )
    assert statuses == [401] * 5 + [429]
    assert (elsewhere.status_code, elsewhere.json()) == (401, INVALID_CLIENT)


async def test_two_nodes_on_one_database_share_the_failure_counts(tight, clock):
    align(clock, WINDOW)
    async with node(tight, clock) as a, node(tight, clock) as b:
        alice = await a.sign_up("alice@example.com", "correct horse", "Alice")
        registered = await a.register_app(alice.id)
        body = wrong(registered, "/api/oauth/token")
        statuses = [
            (await a.http.post("/api/oauth/token", json=body)).status_code,
            (await b.http.post("/api/oauth/token", json=body)).status_code,
            (await a.http.post("/api/oauth/token", json=body)).status_code,
            (await b.http.post("/api/oauth/token", json=body)).status_code,
        ]
    assert statuses == [401, 401, 401, 429]


@asynccontextmanager
async def statements(driver):
    """Every SQL statement the app's engine runs meanwhile (counters included, on both
    databases: the hot endpoints' asyncpg fast path never touches the counters)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = driver.ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_successful_client_authentication_makes_no_counter_round_trip(one, clock):
    driver, registered = one
    tokens = await driver.tokens(registered)
    await driver.http.post("/api/oauth/token", json=wrong(registered, "/api/oauth/token"))
    async with statements(driver) as seen:
        refreshed = await driver.refresh(registered, tokens["refresh_token"])
        introspected = await driver.introspect(registered, refreshed.json()["access_token"])
        me = await driver.me(refreshed.json()["access_token"])
        revoked = await driver.revoke(registered, refreshed.json()["refresh_token"])
    assert (refreshed.status_code, introspected["active"], revoked.status_code) == (200, True, 200)
    assert (me.status_code, limits(me)) == (200, {})
    assert [s for s in seen if "login_throttles" in s] == []


async def test_api_requests_are_limited_per_token_with_ratelimit_headers(one, clock):
    driver, registered = one
    api = Api(driver.http, (await driver.tokens(registered))["access_token"])
    align(clock, 60)
    answers = [await api.get("/api/v1/galleries") for _ in range(4)]
    policy = '"api-per-token";q=3;w=60, "api-per-app";q=5;w=60'
    assert [(r.status_code, limits(r)) for r in answers[:3]] == [
        (
            200,
            {
                "ratelimit-policy": policy,
                "ratelimit": f'"api-per-token";r={r};t=60, "api-per-app";r={r + 2};t=60',
            },
        )
        for r in (2, 1, 0)
    ]
    assert (answers[3].status_code, answers[3].json(), limits(answers[3])) == (
        429,
        too_many_requests(60),
        {
            "retry-after": "60",
            "ratelimit-policy": policy,
            "ratelimit": '"api-per-token";r=0;t=60, "api-per-app";r=1;t=60',
        },
    )
    clock.advance(60)
    assert (await api.get("/api/v1/galleries")).status_code == 200


async def test_api_requests_are_limited_per_app_across_its_tokens(one, clock):
    driver, registered = one
    first = Api(driver.http, (await driver.tokens(registered))["access_token"])
    second = Api(driver.http, (await driver.tokens(registered))["access_token"])
    align(clock, 60)
    statuses = [(await api.get("/api/v1/galleries")).status_code for api in (first, second) * 3]
    assert statuses == [200] * 5 + [429]
    assert (await second.get("/api/v1/galleries")).headers["ratelimit"] == (
        '"api-per-token";r=0;t=60, "api-per-app";r=0;t=60'
    )


async def test_me_is_counted_only_when_configured(tight, clock):
    align(clock, 60)
    async with node(tight.with_(api_limit_me=True), clock) as driver:
        alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
        registered = await driver.register_app(alice.id)
        token = (await driver.tokens(registered))["access_token"]
        answers = [await driver.me(token) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert limits(answers[0])["ratelimit"] == '"api-per-token";r=2;t=60, "api-per-app";r=4;t=60'
    assert (answers[3].json(), answers[3].headers["retry-after"]) == (too_many_requests(60), "60")


async def test_an_app_holds_at_most_its_quota_of_webhooks_per_user(one):
    driver, registered = one
    api = Api(driver.http, (await driver.tokens(registered))["access_token"])
    body = {"url": "http://127.0.0.1:9/hook", "events": ["gallery.created"]}
    answers = [await api.post("/api/v1/webhooks", json=body) for _ in range(3)]
    assert [r.status_code for r in answers] == [201, 201, 409]
    assert answers[2].json() == {
        "error": "quota_exceeded",
        "error_description": (
            "This app already has 2 webhooks for this account, the most it may have; "
            "delete one first"
        ),
    }


async def test_test_events_are_limited_per_minute(one, clock):
    driver, registered = one
    api = Api(driver.http, (await driver.tokens(registered))["access_token"])
    body = {"url": "http://127.0.0.1:9/hook", "events": ["gallery.created"]}
    hook = (await api.post("/api/v1/webhooks", json=body)).json()
    align(clock, 60)
    clock.advance(15)
    answers = [await api.post(f"/api/v1/webhooks/{hook['id']}/test") for _ in range(3)]
    assert [r.status_code for r in answers] == [202, 202, 429]
    assert (answers[2].json(), limits(answers[2])) == (
        too_many_requests(45),
        {
            "retry-after": "45",
            "ratelimit-policy": '"webhook-tests";q=2;w=60',
            "ratelimit": '"webhook-tests";r=0;t=45',
        },
    )


async def test_uploads_are_limited_per_user_per_hour(one, clock):
    driver, registered = one
    api = Api(driver.http, (await driver.tokens(registered))["access_token"])
    gallery = await api.create_gallery()
    first = await api.upload(gallery["id"], make_image(color=(1, 2, 3)))
    clock.advance(600)
    answers = [await api.upload(gallery["id"], make_image(color=(4, 5, n))) for n in range(2)]
    assert [first.status_code] + [r.status_code for r in answers] == [201, 201, 429]
    assert (answers[1].json(), answers[1].headers["retry-after"]) == (
        {
            "error": "too_many_requests",
            "error_description": (
                "Too many uploads in the last hour (at most 2 images and 10000000 bytes); "
                "retry after 3000 seconds"
            ),
            "field": "file",
        },
        "3000",
    )
    clock.advance(3000)
    api.token = (await driver.tokens(registered))["access_token"]  # the first one expired
    assert (await api.upload(gallery["id"], make_image(color=(7, 8, 9)))).status_code == 201


async def test_bytes_per_hour_and_the_storage_quota_are_enforced(tight, clock):
    image = make_image(size=(64, 64))
    size = len(image)
    hourly = tight.with_(
        upload_bytes_per_hour=size + 10, uploads_per_hour=100, api_requests_per_token=0
    )
    async with node(hourly, clock) as driver:
        alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
        registered = await driver.register_app(alice.id, scopes=" ".join(SCOPES))
        api = Api(driver.http, (await driver.tokens(registered))["access_token"])
        gallery = await api.create_gallery()
        assert (await api.upload(gallery["id"], image)).status_code == 201
        over = await api.upload(gallery["id"], make_image(size=(64, 64), color=(1, 1, 1)))
        assert (over.status_code, over.headers["retry-after"]) == (429, "3600")
    quota = tight.with_(
        storage_quota_bytes=size + 10, uploads_per_hour=100, api_requests_per_token=0
    )
    async with node(quota, clock) as driver:
        api2 = Api(driver.http, api.token)
        full = await api2.upload(gallery["id"], make_image(size=(64, 64), color=(2, 2, 2)))
    assert (full.status_code, full.json(), "retry-after" in full.headers) == (
        409,
        {
            "error": "quota_exceeded",
            "error_description": (
                f"This upload would pass your storage quota of {size + 10} bytes; "
                "delete images to make room"
            ),
            "field": "file",
        },
        False,
    )
