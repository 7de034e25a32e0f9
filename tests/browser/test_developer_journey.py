"""A new developer's whole story in Chromium, against a live server and the docs' own client."""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.browser.conftest import PYTHON, example_client, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_new_developer_registers_an_app_runs_the_docs_client_and_revokes_it(page, live, tmp_path):
    sign_up(page, "dana@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="OAuth apps").click()
    page.get_by_role("link", name="New application").click()

    page.get_by_label("Application name").fill("Dana's Photo Sync")
    page.get_by_label("Description (optional)").fill("Keeps <your> albums in sync")
    page.get_by_label("Website URL (optional)").fill("https://sync.example.com")
    page.get_by_label("Redirect URI 1").fill("https://sync.example.com/callback")
    page.get_by_role("button", name="Add another redirect URI").click()
    # The example client listens on a loopback port chosen later: RFC 8252 §7.3 lets a
    # registered http://127.0.0.1 redirect URI match any port.
    page.get_by_label("Redirect URI 2").fill("http://127.0.0.1:5000/callback")
    page.get_by_label("profile:read").check()
    page.get_by_label("galleries:read").check()
    page.get_by_role("button", name="Create application").first.click()

    assert page.get_by_role("heading", level=1).inner_text() == (
        "Application created: Dana's Photo Sync"
    )
    assert "You won't be able to see it again" in page.get_by_role("note").inner_text()
    shown_secret = page.locator("#client-secret").inner_text()
    page.get_by_role("button", name="Copy Client Secret").click()
    secret = page.evaluate("navigator.clipboard.readText()")
    assert secret == shown_secret
    assert page.get_by_role("button", name="Copied").is_visible()
    page.get_by_role("button", name="Copy Client ID").click()
    client_id = page.evaluate("navigator.clipboard.readText()")
    assert client_id == page.locator("#client-id").inner_text()

    page.reload()  # a GET (POST-redirect-GET): no re-post, no second app, no secret
    assert page.get_by_role("heading", level=1).inner_text() == "This secret is not shown again"
    assert page.locator("#client-secret").count() == 0

    example = tmp_path / "piksend_example.py"
    with urllib.request.urlopen(f"{live.url}/docs/oauth/examples/piksend_example.py") as r:
        example.write_bytes(r.read())
    env = {"PIKSEND_CLIENT_ID": client_id, "PIKSEND_CLIENT_SECRET": secret}
    with example_client([PYTHON, str(example)], env) as client:
        page.goto(f"{client}/auth")
        assert page.locator(".app-name").inner_text() == "Dana's Photo Sync"
        host = client.removeprefix("http://")
        assert page.locator(".redirect-host").inner_text() == host
        page.get_by_label("View your galleries and their settings").uncheck()
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(f"{client}/profile")
        assert page.locator("#scope").inner_text() == "profile:read"
        assert page.locator("#status").inner_text() == "200"
        assert '"email": "dana@example.com"' in page.locator("#body").inner_text()

        page.goto(f"{live.url}/settings/connected-apps")
        card = page.locator(".connected-app", has_text="Dana's Photo Sync")
        assert card.locator(".granted li").all_inner_texts() == [
            "Read basic profile information (name, email, avatar) profile:read"
        ]
        card.get_by_role("link", name=re.compile("Revoke access")).click()  # its <dialog>
        page.get_by_role("dialog").get_by_role("button", name="Revoke access").click()
        assert page.get_by_role("status").first.inner_text() == (
            "Access revoked. The app's tokens for your account stopped working."
        )
        assert page.locator(".connected-app").count() == 0

        page.goto(f"{client}/profile")
        assert page.locator("#status").inner_text() == "401"
