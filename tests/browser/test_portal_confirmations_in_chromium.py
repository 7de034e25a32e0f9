"""Issue 17, items 2 and 4, in Chromium: revoking, deleting and an immediate rotation ask first
(a <dialog> with JavaScript, a confirmation page without), and a new secret's page is reached
by a redirect, so a reload shows "not shown again" and never re-posts."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_portal_pages import create_app, new_user

pytestmark = [pytest.mark.browser, pytest.mark.live]


def connect_own_app(page, client_id: str, secret: str) -> None:
    """Authorize the user's own app through "Test your integration": it becomes connected."""
    page.goto(f"/settings/oauth/{client_id}/test")
    page.get_by_role("button", name="Register the test callback").click()
    page.get_by_role("button", name="Start test authorization").click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_label("Client Secret").fill(secret)
    page.get_by_role("button", name="Exchange code for tokens").click()
    assert page.locator("#token-status").inner_text() == "HTTP 200"


def test_an_immediate_rotation_asks_in_a_dialog_and_the_secret_page_survives_no_reload(page):
    new_user(page)
    client_id, old = create_app(page, name="Dialog App")
    page.goto(f"/settings/oauth/{client_id}")
    assert page.get_by_label("After 24 hours").is_checked()
    page.get_by_label("Immediately — the old secret stops working now").check()
    page.get_by_role("button", name="Rotate client secret").click()
    dialog = page.get_by_role("dialog", name="Stop the old secret now?")
    assert dialog.is_visible()
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.is_visible()
    assert page.url.endswith(f"/settings/oauth/{client_id}")
    page.get_by_role("button", name="Rotate client secret").click()
    dialog.get_by_role("button", name="Rotate and stop the old secret now").click()
    page.wait_for_url(re.compile(r"/secret$"))
    new = page.locator("#client-secret").inner_text()
    assert new.startswith("pks_cs_") and new != old
    assert new not in page.url
    page.reload()  # a GET: no "Confirm resubmission", and the secret is not shown again
    assert page.get_by_role("heading", level=1).inner_text() == "This secret is not shown again"
    assert "pks_cs_" not in page.content()
    page.goto(f"/settings/oauth/{client_id}")
    facts = page.locator(".secret-facts")
    assert facts.count() == 1
    assert f"ending in …{new[-4:]}" in facts.first.inner_text()


def test_revoking_and_deleting_ask_in_a_dialog(page):
    new_user(page)
    client_id, secret = create_app(page, name="Revoked App")
    connect_own_app(page, client_id, secret)
    page.goto("/settings/connected-apps")
    card = page.locator(".connected-app", has_text="Revoked App")
    card.get_by_role("link", name=re.compile("Revoke access")).click()
    dialog = page.get_by_role("dialog", name="Revoke access for Revoked App?")
    dialog.get_by_role("button", name="Cancel").click()
    assert page.locator(".connected-app").count() == 1
    card.get_by_role("link", name=re.compile("Revoke access")).click()
    dialog.get_by_role("button", name="Revoke access").click()
    assert page.get_by_role("status").first.inner_text() == (
        "Access revoked. The app's tokens for your account stopped working."
    )
    page.goto(f"/settings/oauth/{client_id}")
    page.get_by_role("link", name="Delete…").click()
    deleting = page.get_by_role("dialog", name="Delete Revoked App?")
    deleting.get_by_role("button", name="Delete application and revoke its tokens").click()
    assert page.get_by_role("status").first.inner_text() == (
        "The application was deleted and every token it held was revoked."
    )


def test_without_javascript_each_confirmation_is_a_page(page_without_js):
    page = page_without_js
    new_user(page)
    client_id, _ = create_app(page, name="Plain App")
    page.goto(f"/settings/oauth/{client_id}")
    page.get_by_label("Immediately — the old secret stops working now").check()
    page.get_by_role("button", name="Rotate client secret").click()
    assert (
        page.get_by_role("heading", level=1).inner_text() == "Stop the old secret of Plain App now?"
    )
    page.get_by_role("button", name="Rotate and stop the old secret now").click()
    assert "The previous secret stopped working now." in page.content()
    new = page.locator("#client-secret").inner_text()
    connect_own_app(page, client_id, new)
    page.goto("/settings/connected-apps")
    page.get_by_role("link", name=re.compile("Revoke access")).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Revoke access for Plain App?"
    page.get_by_role("button", name="Revoke access").click()
    assert page.locator(".connected-app").count() == 0
