"""Account journeys in Chromium against a live ``piksend serve`` that mails through a real SMTP
server (aiosmtpd on loopback, issue 14): sign-up then verify; forgot, reset, and the other
browser signed out; change the password, and the other browser signed out."""

from __future__ import annotations

import itertools
import re

import pytest

from tests.browser.conftest import sign_up
from tests.support.live import live_server
from tests.support.smtp import link_in, smtp_server

pytestmark = [pytest.mark.browser, pytest.mark.live]
_emails = itertools.count()
PASSWORD = "correct horse"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def inbox():
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def live(tmp_path_factory, inbox):
    """This module's server sends its mail to ``inbox`` (the worker polls every 0.2 s)."""
    data_dir = tmp_path_factory.mktemp("live-mail")
    url = f"sqlite:///{data_dir / 'piksend.db'}"
    env = {"PIKSEND_SMTP_URL": inbox.url, "PIKSEND_MAIL_POLL_INTERVAL": "0.2"}
    with live_server(data_dir, url, **env) as server:
        yield server


@pytest.fixture
def other_page(browser, live):
    """A second browser, with its own cookies: the person's other device."""
    context = browser.new_context(base_url=live.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def new_address() -> str:
    return f"person{next(_emails)}@example.com"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))


def is_signed_in(page) -> bool:
    page.goto("/settings/password")
    return page.url.endswith("/settings/password")


def test_a_new_person_signs_up_and_verifies_their_address_from_the_mail(page, inbox):
    email = new_address()
    page.goto("/signup")
    page.get_by_label("Name").fill("Vera")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    link = link_in(inbox.wait_for_mail(email, "Confirm your e-mail address"))
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_role("heading", name="Your address is verified").wait_for()

    sign_in(page, email, PASSWORD)
    page.goto("/settings/email")
    assert page.get_by_text(f"Your address is {email}: verified.").is_visible()


def test_forgot_then_reset_signs_out_the_other_browser(page, other_page, inbox):
    email = new_address()
    sign_up(other_page, email, name="Rita", password=PASSWORD)
    assert is_signed_in(other_page)

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    page.goto(link_in(inbox.wait_for_mail(email, "Reset your PikSend password")))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_role("heading", name="Your password was changed").wait_for()

    assert not is_signed_in(other_page)
    sign_in(page, email, NEW_PASSWORD)
    assert is_signed_in(page)


def test_changing_the_password_keeps_this_browser_and_signs_out_the_other(page, other_page, inbox):
    email = new_address()
    sign_up(page, email, name="Carl", password=PASSWORD)
    sign_in(other_page, email, PASSWORD)

    page.goto("/settings/password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("status").filter(has_text="Your password was changed").wait_for()

    assert inbox.wait_for_mail(email, "Your PikSend password was changed")
    assert not is_signed_in(other_page)
    assert is_signed_in(page)
