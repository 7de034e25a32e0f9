"""The single-page example (``src/piksend/web/examples/spa.html``), unchanged, in Chromium: served
from a second origin (http://localhost:<port>, while piksend is http://127.0.0.1:<other port>), a
public app whose redirect URI is that page, signed in and approved on piksend's real pages, then
its galleries, a refresh and a sign-out that revokes, every token call made cross-origin under
CORS. The tokens it received are checked dead through the API afterwards, and never to have been
written to localStorage or sessionStorage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.support.public_client import (
    BACKENDS,
    PASSWORD,
    create_gallery,
    create_user,
    galleries_status,
    live_on,
    public_tokens,
    refresh_error,
    register_public_app,
    static_site,
)

pytestmark = [pytest.mark.browser, pytest.mark.live]

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "piksend" / "web" / "examples"
EMAIL = "sam@example.com"

# Every Storage write any page makes, reported to the test before the write happens.
REPORT_STORAGE_WRITES = """
const setItem = Storage.prototype.setItem;
Storage.prototype.setItem = function (key, value) {
  const area = this === window.localStorage ? 'localStorage' : 'sessionStorage';
  window.reportStorageWrite(location.origin, area, String(key), String(value));
  return setItem.call(this, key, value);
};
"""


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    with live_on(request.param, tmp_path_factory.mktemp("spa")) as live:
        create_user(live, EMAIL)
        yield live


@pytest.fixture(scope="module")
def spa_origin():
    with static_site(EXAMPLES) as origin:
        yield origin


@pytest.fixture
def spa_page(browser, request, server):
    context = browser.new_context()
    context.set_default_timeout(15_000)
    writes: list[tuple[str, str, str, str]] = []
    context.expose_binding("reportStorageWrite", lambda _source, *write: writes.append(write))
    context.add_init_script(REPORT_STORAGE_WRITES)
    page = context.new_page()
    page.storage_writes = writes
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def test_the_spa_example_signs_in_lists_galleries_refreshes_and_revokes_on_sign_out(
    spa_page, server, spa_origin
):
    page = spa_page
    redirect_uri = f"{spa_origin}/spa.html"
    client_id = register_public_app(
        server, owner=EMAIL, name="Browser Photos", redirect_uris=[redirect_uri]
    )
    setup = public_tokens(server, client_id=client_id, redirect_uri=redirect_uri, email=EMAIL)
    create_gallery(server, setup["access_token"], "Alpine lakes")
    token_endpoint = f"{server.url}/api/oauth/token"

    galleries_endpoint = f"{server.url}/api/v1/galleries"

    def token_response(response) -> bool:
        return response.url == token_endpoint and response.request.method == "POST"

    def galleries_response(response) -> bool:
        return response.url == galleries_endpoint and response.request.method == "GET"

    page.goto(f"{redirect_uri}?server={server.url}&client_id={client_id}")
    status = page.locator("#status")
    expect(status).to_have_text("Signed out")
    page.locator("#sign-in").click()
    page.wait_for_url(f"{server.url}/login**")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.locator(".app-name").inner_text() == "Browser Photos"
    with page.expect_response(token_response) as exchange:
        page.get_by_role("button", name="Approve").click()
    page.wait_for_url(redirect_uri)
    expect(status).to_have_text("Signed in")
    expect(page.locator("#galleries li")).to_have_text(["Alpine lakes"])

    with (
        page.expect_response(token_response) as refresh,
        page.expect_response(galleries_response) as listing,
    ):
        page.locator("#refresh").click()
    expect(status).to_have_text("Tokens refreshed")
    issued = [exchange.value.json(), refresh.value.json()]
    assert [r.status for r in (exchange.value, refresh.value, listing.value)] == [200, 200, 200]
    assert issued[1]["refresh_token"] != issued[0]["refresh_token"]
    # The list shown now came with the new access token.
    assert listing.value.request.headers["authorization"] == f"Bearer {issued[1]['access_token']}"
    expect(page.locator("#galleries li")).to_have_text(["Alpine lakes"])

    page.locator("#sign-out").click()
    expect(status).to_have_text("Signed out: tokens revoked")
    expect(page.locator("#galleries li")).to_have_count(0)
    expect(page.locator("#sign-in")).to_be_visible()

    for tokens in issued:
        assert galleries_status(server, tokens["access_token"]) == 401
    assert refresh_error(server, client_id=client_id, refresh_token=issued[1]["refresh_token"]) == {
        "error": "invalid_grant",
        "error_description": "Refresh token has been revoked",
    }
    assert page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]
    # Only the PKCE verifier, state and configuration cross the redirect, as the example says.
    writes = page.storage_writes
    assert [(origin, area, key) for origin, area, key, _ in writes] == [
        (spa_origin, "sessionStorage", "piksend_example_pending")
    ]
    secrets = {t[k] for t in issued for k in ("access_token", "refresh_token")}
    assert [value for *_, value in writes if any(s in value for s in secrets)] == []
