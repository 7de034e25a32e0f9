"""Consent and error pages in Chromium against a live ``piksend serve`` (issue 17, items 1 and 3):
the boxes as the user left them, Cancel answering the app, "Not you?" back to the same request
for another account (all without JavaScript), scope names never broken mid-word on a phone, and
the not-found page in the signed-in layout."""

from __future__ import annotations

import itertools
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.pkce import pkce_pair

pytestmark = [pytest.mark.browser, pytest.mark.live]
PASSWORD = "correct horse battery"
REDIRECT_URI = "https://app.example.com/cb"
SCOPES = "profile:read galleries:read stats:read"
_ids = itertools.count()

# Every place in an inline code element (not in a <pre>) where the text moves to a new line
# between two word characters: a mid-word break. Scope names (in .scope) must also be one line.
# Code longer than 24 characters (a whole URL) may not fit a phone's line and breaks where it must.
MID_WORD_BREAKS = """() => {
  const found = [];
  for (const el of document.querySelectorAll('code')) {
    if (el.closest('pre') || !el.getClientRects().length) continue;
    if (el.textContent.length > 24 && !el.closest('.scope')) continue;
    if (el.closest('.scope') && el.getClientRects().length !== 1) found.push(el.textContent);
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let node, top = null, previous = null;
    while ((node = walker.nextNode())) {
      for (let i = 0; i < node.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rects = range.getClientRects();
        if (!rects.length) continue;
        const ch = node.data[i];
        if (top !== null && rects[0].top > top + 2 && /\\w/.test(previous) && /\\w/.test(ch)) {
          found.push(el.textContent);
        }
        top = rects[0].top;
        previous = ch;
      }
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def app_of(live):
    owner = "owner@example.com"
    live.cli("users", "create", "--email", owner, "--password", PASSWORD, "--name", "Owner")
    created = live.cli(
        "apps", "create", "--owner", owner, "--name", "Photo Stats", "--redirect-uri",
        REDIRECT_URI, "--scopes", SCOPES,
    )  # fmt: skip
    return created["client_id"]


def new_account(live) -> str:
    email = f"person{next(_ids)}@example.com"
    live.cli("users", "create", "--email", email, "--password", PASSWORD, "--name", "Person")
    return email


def sign_in(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def authorize_url(client_id: str, state: str = "st-1") -> str:
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return "/api/oauth/authorize?" + urlencode(query)


def the_app_answers(page) -> None:
    """The app's redirect URI, answered here: the test reads where the browser was sent."""
    page.route("https://app.example.com/**", lambda route: route.fulfill(body="the app"))


def test_unticked_boxes_stay_unticked_and_cancel_tells_the_app_without_javascript(
    page_without_js, live, app_of
):
    page = page_without_js
    the_app_answers(page)
    page.goto(authorize_url(app_of, state="st-cancel"))
    sign_in(page, new_account(live))
    boxes = page.get_by_role("checkbox")
    assert [boxes.nth(i).is_checked() for i in range(3)] == [True, True, True]
    for i in range(3):
        boxes.nth(i).uncheck()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Choose at least one permission to approve, or choose Cancel.").wait_for()
    assert [boxes.nth(i).is_checked() for i in range(3)] == [False, False, False]
    page.get_by_role("button", name="Approve").click()  # the second press grants nothing
    page.get_by_text("Choose at least one permission to approve, or choose Cancel.").wait_for()
    assert "app.example.com" not in page.url
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(re.compile(r"^https://app\.example\.com/cb\?"))
    assert parse_qs(urlsplit(page.url).query) == {
        "error": ["access_denied"],
        "error_description": ["The user denied the request"],
        "state": ["st-cancel"],
        "iss": [live.url],
    }


def test_not_you_signs_out_and_the_next_account_answers_the_same_request_without_javascript(
    page_without_js, live, app_of
):
    page = page_without_js
    the_app_answers(page)
    first, second = new_account(live), new_account(live)
    page.goto(authorize_url(app_of, state="st-switch"))
    sign_in(page, first)
    assert page.locator(".account-email").inner_text() == first
    page.get_by_role("button", name="Sign out and use another account").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    sign_in(page, second)
    assert page.locator(".account-email").inner_text() == second
    assert page.locator(".app-name").first.inner_text() == "Photo Stats"
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(r"^https://app\.example\.com/cb\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["st-switch"]
    assert query["code"][0]


def test_the_menus_sign_out_on_consent_returns_to_the_request(page, live, app_of):
    page.goto(authorize_url(app_of))
    sign_in(page, new_account(live))
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    sign_in(page, new_account(live))
    page.get_by_role("button", name="Approve").wait_for()
    assert "/api/oauth/authorize?" in page.url


def test_scope_names_and_inline_code_never_break_mid_word_on_a_phone(phone, live, app_of):
    phone.goto(authorize_url(app_of))
    sign_in(phone, new_account(live))
    phone.get_by_role("button", name="Approve").wait_for()
    assert phone.locator(".scope code").all_inner_texts() == SCOPES.split()
    assert phone.evaluate(MID_WORD_BREAKS) == []
    phone.goto("/docs/oauth")
    assert phone.evaluate(MID_WORD_BREAKS) == []


def test_an_unknown_app_page_is_not_found_in_the_signed_in_layout(page, live):
    page.goto("/login")
    sign_in(page, new_account(live))
    page.wait_for_url("**/")
    response = page.goto("/settings/oauth/pks_ci_nobody")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    assert page.locator(".tried").inner_text() == "GET /settings/oauth/pks_ci_nobody"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("button", name="Sign out").is_visible()
    assert nav.get_by_role("link", name="Sign in").count() == 0
    page.goto("/no/such/page")
    assert page.get_by_text("There is no page at this address.").is_visible()
