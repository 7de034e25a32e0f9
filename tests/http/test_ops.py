"""Health, readiness and Prometheus metrics (route templates, token and detection counters)."""

from __future__ import annotations

import logging

import httpx

from piksend.app import create_app
from piksend.logs import DropQueryFilter
from tests.conftest import ISSUER, METRICS


def sample(metrics_text: str, name: str) -> float | None:
    """The value of one exposition line ``name{labels} value`` (exact series match)."""
    for line in metrics_text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == name:
            return float(value)
    return None


async def test_healthz_answers_ok_without_touching_the_database(http):
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_ready_when_the_database_is_reachable(http):
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "storage": "ok"}


async def test_readyz_answers_503_when_the_database_is_unreachable(settings):
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    broken = settings.with_(database_url="postgresql://postgres@127.0.0.1:1/piksend")
    app = create_app(broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        response = await client.get("/readyz")
    await app.state.ctx.db.dispose()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json() == {"status": "unavailable", "database": "unreachable", "storage": "ok"}


async def test_metrics_label_requests_by_route_template_not_raw_path(http):
    await http.get("/api/v1/me", headers={"Authorization": "Bearer pks_at_nope"})
    await http.get("/no/such/page-123")
    text = (await http.get("/metrics", headers=METRICS)).text
    assert (
        sample(text, 'piksend_http_requests_total{method="GET",route="/api/v1/me",status="401"}')
        == 1.0
    )
    assert (
        sample(text, 'piksend_http_requests_total{method="GET",route="<unmatched>",status="404"}')
        == 1.0
    )
    assert "page-123" not in text
    assert (
        sample(text, 'piksend_http_request_duration_seconds_count{method="GET",route="/api/v1/me"}')
        == 1.0
    )


async def test_metrics_count_issued_refreshed_and_revoked_tokens(driver, registered, http):
    tokens = await driver.tokens(registered)
    refreshed = await driver.refresh(registered, tokens["refresh_token"])
    assert refreshed.status_code == 200
    revoked = await driver.revoke(registered, refreshed.json()["access_token"])
    assert revoked.status_code == 200
    text = (await http.get("/metrics", headers=METRICS)).text
    assert sample(text, "piksend_tokens_issued_total") == 1.0
    assert sample(text, "piksend_tokens_refreshed_total") == 1.0
    assert sample(text, "piksend_token_revocations_total") == 1.0
    assert sample(text, "piksend_refresh_token_reuse_detections_total") == 0.0


async def test_metrics_count_refresh_token_reuse(driver, registered, http, clock):
    tokens = await driver.tokens(registered)
    assert (await driver.refresh(registered, tokens["refresh_token"])).status_code == 200
    clock.advance(61)  # past the grace window (60 s): reuse, not a retry
    reused = await driver.refresh(registered, tokens["refresh_token"])
    assert reused.status_code == 400
    text = (await http.get("/metrics", headers=METRICS)).text
    assert sample(text, "piksend_refresh_token_reuse_detections_total") == 1.0
    assert sample(text, "piksend_authorization_code_replays_total") == 0.0


async def test_metrics_count_authorization_code_replay(driver, registered, http):
    auth = await driver.authorize_and_approve(registered)
    assert (await driver.exchange(registered, auth)).status_code == 200
    replayed = await driver.exchange(registered, auth)
    assert replayed.status_code == 400
    text = (await http.get("/metrics", headers=METRICS)).text
    assert sample(text, "piksend_authorization_code_replays_total") == 1.0
    assert sample(text, "piksend_tokens_issued_total") == 1.0


async def test_no_token_code_or_secret_reaches_the_logs(driver, registered, caplog):
    caplog.set_level(logging.DEBUG)
    auth = await driver.authorize_and_approve(registered)
    tokens = (await driver.exchange(registered, auth)).json()
    await driver.exchange(registered, auth)  # a replay, logged as an error path
    await driver.refresh(registered, tokens["refresh_token"])
    await driver.introspect(registered, tokens["access_token"])
    await driver.revoke(registered, tokens["access_token"])
    secrets = [
        auth.code,
        auth.verifier,
        tokens["access_token"],
        tokens["refresh_token"],
        registered.client_secret,
    ]
    assert caplog.records  # the check below must have something to look at
    assert [s for s in secrets if s in caplog.text] == []


def test_access_log_lines_lose_their_query_string():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/cb?code=pks_ac_secret&state=x", "1.1", 200),
        None,
    )
    DropQueryFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /cb HTTP/1.1" 200'
