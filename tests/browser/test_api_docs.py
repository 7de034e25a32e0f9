"""/api/docs in Chromium with the network cut to loopback (issue 15, item 6): the API browser
comes from piksend's own static files, renders under the page CSP (no violation reported) and
lists the API's operations; nothing is requested from any other origin."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_the_api_browser_renders_offline_under_the_page_csp(page):
    elsewhere: list[str] = []

    def only_loopback(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_loopback)
    complaints: list[str] = []
    page.on(
        "console",
        lambda message: (
            complaints.append(message.text)
            if "Content Security Policy" in message.text or message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: complaints.append(str(error)))

    response = page.goto("/api/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator('.opblock-summary-path[data-path="/api/v1/me"]').wait_for()

    listed = page.locator(".opblock-summary-path").evaluate_all(
        "nodes => nodes.map(n => n.dataset.path)"
    )
    assert {"/api/v1/me", "/api/v1/galleries", "/api/v1/galleries/{gallery_id}"} <= set(listed)
    assert page.locator(".info .title").first.inner_text().startswith("PikSend API")
    assert (elsewhere, complaints) == ([], [])
