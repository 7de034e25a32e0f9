"""The security page in Chromium against a live ``piksend serve`` (issue 14, item 5): a person
signed in on two browsers sees both sessions, signs out everywhere else from one, and the
other is sent to sign in at its next page."""

from __future__ import annotations

import itertools
import re

import pytest

from tests.browser.conftest import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.live]
_emails = itertools.count()
PASSWORD = "correct horse"


@pytest.fixture
def other_page(browser, live):
    """A second browser, with its own cookies: the person's other device."""
    context = browser.new_context(base_url=live.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))


def test_sign_out_everywhere_else_signs_the_other_browser_out_at_its_next_page(page, other_page):
    email = f"sessions{next(_emails)}@example.com"
    sign_up(page, email, name="Sam Sessions", password=PASSWORD)
    sign_in(other_page, email)

    page.get_by_role("link", name="Security").click()
    page.get_by_role("heading", name="Where you are signed in").wait_for()
    assert page.locator(".session-browser").all_inner_texts() == [
        "Chrome on Linux",
        "Chrome on Linux",
    ]
    assert page.locator(".session-address").all_inner_texts() == ["127.0.0.1", "127.0.0.1"]
    assert page.get_by_text("This browser").count() == 1

    page.get_by_role("button", name="Sign out everywhere else").click()
    page.get_by_text("You were signed out everywhere else.").wait_for()
    assert page.locator(".session-browser").all_inner_texts() == ["Chrome on Linux"]
    assert page.locator('[data-kind="other_sessions_ended"]').count() == 1

    other_page.goto("/settings/security")
    assert "/login" in other_page.url
    page.reload()
    assert page.url.endswith("/settings/security?done=others")
