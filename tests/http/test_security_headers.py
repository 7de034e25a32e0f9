"""Operator-facing headers and /metrics (issue 15, item 6): HSTS only with an https public URL
(RFC 6797 §7.2), the page CSP exactly (CSP3: only what the pages use), and /metrics behind
``PIKSEND_METRICS_TOKEN`` (RFC 6750 §2.1), absent from the public port without one."""

from __future__ import annotations

import httpx
import pytest

from piksend.app import create_app
from piksend.web.security import consent_csp
from tests.conftest import METRICS, METRICS_TOKEN
from tests.support.pkce import pkce_pair

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


async def client_for(settings):
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return app, httpx.AsyncClient(transport=transport, base_url=settings.public_url)


@pytest.mark.parametrize("path", ["/login", "/api/openapi.json", "/healthz", "/no/such/page"])
async def test_an_https_public_url_sends_hsts_on_every_response(settings, path):
    app, http = await client_for(settings.with_(public_url="https://auth.example.test"))
    async with http:
        response = await http.get(path)
    await app.state.ctx.db.dispose()
    assert response.headers["strict-transport-security"] == HSTS


async def test_a_plain_http_public_url_sends_no_hsts(http):
    for path in ("/login", "/healthz"):
        assert "strict-transport-security" not in (await http.get(path)).headers


async def test_pages_get_the_narrow_csp_exactly(http):
    for path in ("/login", "/signup", "/", "/docs/oauth", "/no/such/page"):
        response = await http.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.headers["content-security-policy"] == PAGE_CSP, path


async def test_consent_widens_form_action_to_the_one_redirect_target_only(driver, registered, http):
    _, challenge = pkce_pair()
    consent = await driver.authorize(registered, challenge=challenge)
    assert consent.headers["content-security-policy"] == consent_csp(registered.redirect_uri)
    assert consent.headers["content-security-policy"] == PAGE_CSP.replace(
        "form-action 'self'", "form-action 'self' https://app.example.com"
    )


async def test_metrics_need_the_metrics_token(http):
    missing = await http.get("/metrics")
    wrong = await http.get("/metrics", headers={"authorization": "Bearer not-the-token"})
    basic = await http.get("/metrics", headers={"authorization": f"Basic {METRICS_TOKEN}"})
    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert refused.json() == {
            "error": "invalid_token",
            "error_description": "The metrics token is required",
        }
    granted = await http.get("/metrics", headers=METRICS)
    assert granted.status_code == 200
    assert granted.headers["content-type"].startswith("text/plain")
    assert granted.headers["cache-control"] == "no-store"
    assert "piksend_http_requests_total" in granted.text


async def test_without_a_metrics_token_the_public_port_has_no_metrics(settings):
    app, http = await client_for(settings.with_(metrics_token=None))
    async with http:
        response = await http.get("/metrics", headers=METRICS)
        unknown = await http.get("/no-such-endpoint", headers={"accept": "application/json"})
    await app.state.ctx.db.dispose()
    assert response.status_code == 404
    assert response.headers["content-type"] == unknown.headers["content-type"]


def test_the_metrics_token_is_read_from_the_environment(tmp_path):
    from piksend.settings import settings_from_env

    environ = {"PIKSEND_DATA_DIR": str(tmp_path), "PIKSEND_METRICS_TOKEN": "s3cret"}
    assert settings_from_env(environ=environ).metrics_token == "s3cret"
    assert settings_from_env(environ={"PIKSEND_DATA_DIR": str(tmp_path)}).metrics_token is None
