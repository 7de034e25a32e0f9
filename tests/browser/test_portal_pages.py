"""The portal pages in Chromium: without JavaScript, by keyboard, on a phone, and the
'Test your integration' flow and the Node.js docs client end to end."""

from __future__ import annotations

import itertools
import shutil
import urllib.request

import pytest

from tests.browser.conftest import example_client, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.live]
_emails = itertools.count()


def new_user(page) -> str:
    email = f"dev{next(_emails)}@example.com"
    sign_up(page, email)
    return email


def create_app(page, name="Browser App", uris=("https://app.example.com/cb",)) -> tuple[str, str]:
    page.goto("/settings/oauth/new")
    page.get_by_label("Application name").fill(name)
    for index, uri in enumerate(uris):
        if index:
            page.get_by_role("button", name="Add another redirect URI").click()
        page.get_by_label(f"Redirect URI {index + 1}").fill(uri)
    page.get_by_label("profile:read").check()
    page.get_by_role("button", name="Create application").last.click()
    return page.locator("#client-id").inner_text(), page.locator("#client-secret").inner_text()


def test_creating_an_app_works_without_javascript(page_without_js):
    page = page_without_js
    new_user(page)
    client_id, secret = create_app(
        page, uris=("https://one.example.com/cb", "https://two.example.com/cb")
    )
    assert client_id.startswith("pks_ci_")
    assert secret.startswith("pks_cs_")
    assert page.get_by_role("button", name="Copy Client Secret").is_hidden()
    page.get_by_role("link", name="I have stored it — go to the application").click()
    assert page.get_by_label("Redirect URI 2").input_value() == "https://two.example.com/cb"
    page.get_by_role("button", name="Remove redirect URI 1").click()
    assert page.get_by_label("Redirect URI 1").input_value() == "https://two.example.com/cb"
    assert page.get_by_label("Redirect URI 2").count() == 0


def test_validation_messages_appear_beside_the_fields_and_in_a_summary(page):
    new_user(page)
    page.goto("/settings/oauth/new")
    page.get_by_label("Application name").fill("Bad App")
    page.get_by_label("Logo URL (optional)").fill("http://cdn.example.com/logo.png")
    page.get_by_label("Redirect URI 1").fill("https://app.example.com/cb#x")
    page.get_by_role("button", name="Create application").last.click()
    summary = page.locator(".error-summary li").all_inner_texts()
    assert summary == [
        "Logo URL must be an https URL",
        "Redirect URI 1: Redirect URI must not contain a fragment",
        "Choose at least one scope",
    ]
    assert page.locator("#e-logo_url").inner_text() == "Logo URL must be an https URL"
    assert page.get_by_label("Logo URL (optional)").get_attribute("aria-invalid") == "true"


def test_keyboard_enter_in_a_field_submits_the_form_and_skip_link_comes_first(page):
    new_user(page)
    page.goto("/settings/oauth/new")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_label("Redirect URI 1").fill("https://keep.example.com/cb")
    page.get_by_label("Application name").focus()
    page.keyboard.type("Typed by keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Enter pressed "Create application", not "Remove redirect URI 1": the row is still there.
    assert page.get_by_label("Redirect URI 1").input_value() == "https://keep.example.com/cb"
    assert page.locator(".error-summary li").all_inner_texts() == ["Choose at least one scope"]


def test_pages_fit_a_phone_screen_without_sideways_scrolling(phone):
    page = phone
    new_user(page)
    client_id, _ = create_app(page, name="A very long application name " * 3)
    for path in (
        "/settings/oauth",
        "/settings/oauth/new",
        f"/settings/oauth/{client_id}",
        f"/settings/oauth/{client_id}/test",
        "/settings/connected-apps",
        "/docs/oauth",
    ):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide"


def test_rotating_with_a_grace_period_and_deleting_after_confirmation(page, live):
    new_user(page)
    client_id, old = create_app(page)
    page.goto(f"/settings/oauth/{client_id}")
    page.get_by_label("After 1 hour").check()
    page.get_by_role("button", name="Rotate client secret").click()
    assert page.get_by_role("heading", level=1).inner_text() == "New client secret: Browser App"
    assert page.locator("#client-secret").inner_text() not in ("", old)
    assert "The previous secret keeps working until" in page.content()
    page.get_by_role("link", name="I have stored it — go to the application").click()
    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Delete application and revoke its tokens").click()
    assert page.get_by_role("status").first.inner_text() == (
        "The application was deleted and every token it held was revoked."
    )
    assert page.get_by_role("link", name="Browser App").count() == 0


def test_test_your_integration_runs_a_real_flow_and_shows_the_token_response(page):
    new_user(page)
    client_id, secret = create_app(page, name="Tested App")
    page.goto(f"/settings/oauth/{client_id}")
    page.get_by_role("link", name="Test your integration").click()
    page.get_by_role("button", name="Register the test callback").click()
    assert page.get_by_text("This callback is registered on your app.").is_visible()
    page.get_by_role("button", name="Start test authorization").click()
    assert page.locator(".app-name").inner_text() == "Tested App"
    page.get_by_role("button", name="Approve").click()
    assert page.get_by_text("State matches the one sent with the request.").is_visible()
    page.get_by_label("Client Secret").fill(secret)
    page.get_by_role("button", name="Exchange code for tokens").click()
    assert page.locator("#token-status").inner_text() == "HTTP 200"
    response = page.locator("#token-response").inner_text()
    assert '"token_type": "Bearer"' in response
    assert '"scope": "profile:read"' in response
    assert secret not in page.content()


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_node_example_from_the_docs_runs_unchanged(page, live, tmp_path):
    new_user(page)
    client_id, secret = create_app(page, name="Node App", uris=("http://127.0.0.1/callback",))
    example = tmp_path / "piksend_example.js"
    with urllib.request.urlopen(f"{live.url}/docs/oauth/examples/piksend_example.js") as r:
        example.write_bytes(r.read())
    env = {"PIKSEND_CLIENT_ID": client_id, "PIKSEND_CLIENT_SECRET": secret, "SCOPE": "profile:read"}
    with example_client([shutil.which("node"), str(example)], env) as client:
        page.goto(f"{client}/auth")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(f"{client}/profile")
        assert page.locator("#scope").inner_text() == "profile:read"
        assert page.locator("#status").inner_text() == "200"
        page.goto(f"{client}/logout")
        page.goto(f"{client}/profile")
        assert page.locator("#status").inner_text() == "401"


def test_a_public_app_is_created_without_javascript_and_changes_type_both_ways(page_without_js):
    page = page_without_js
    new_user(page)
    page.goto("/settings/oauth/new")
    assert page.get_by_label("Runs on a server (it can keep a secret)").is_checked()
    page.get_by_label("Application name").fill("Pocket Photos")
    page.get_by_label(
        "Runs in a browser or on a device (single-page, mobile, desktop or command-line app: "
        "no secret)"
    ).check()
    page.get_by_label("Redirect URI 1").fill("com.example.photos:/oauth2redirect")
    page.get_by_role("button", name="Add another redirect URI").click()
    page.get_by_label("Redirect URI 2").fill("http://127.0.0.1/callback")
    page.get_by_label("profile:read").check()
    page.get_by_role("button", name="Create application").last.click()

    assert page.get_by_role("status").first.inner_text() == (
        "Application created. It is public, so it has no client secret: use its Client ID "
        "with PKCE."
    )
    assert page.locator("#client-secret").count() == 0
    assert page.locator("#client-type strong").inner_text() == "Public"
    assert page.get_by_label("Redirect URI 1").input_value() == "com.example.photos:/oauth2redirect"

    page.get_by_label("Redirect URI 1").fill("https://photos.example.com/callback")
    page.get_by_role("button", name="Save changes").last.click()
    page.get_by_role("button", name="Make this app confidential").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "App made confidential: Pocket Photos"
    )
    assert page.locator("#client-secret").inner_text().startswith("pks_cs_")
    page.get_by_role("link", name="I have stored it — go to the application").click()
    assert page.locator("#client-type strong").inner_text() == "Confidential"

    page.get_by_role("link", name="Make this app public…").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Make Pocket Photos public?"
    page.get_by_role("button", name="Make public and delete its secrets").click()
    assert page.get_by_role("status").first.inner_text() == (
        "This app is now public: its client secrets were deleted."
    )
    assert page.locator("#client-type strong").inner_text() == "Public"
    assert page.get_by_role("button", name="Rotate client secret").count() == 0
