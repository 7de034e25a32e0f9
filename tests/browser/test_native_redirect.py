"""A native app's private-use redirect (RFC 8252 §7.1) survives the consent page's CSP in Chromium."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.public_client import PASSWORD, create_user, register_public_app

pytestmark = [pytest.mark.browser, pytest.mark.live]
REDIRECT = "com.example.photos:/oauth2redirect"


def test_approving_a_native_app_sends_the_browser_to_its_private_use_redirect(page, live):
    # Chromium checks form-action against the 303 that answers the consent form (CSP3 §6.3.3):
    # with `form-action 'self' http: https:` the redirect to the app's scheme was blocked.
    create_user(live, "native@example.com")
    client_id = register_public_app(
        live, owner="native@example.com", name="Native Photos", redirect_uris=[REDIRECT]
    )
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "profile:read",
            "state": "native-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page.goto("/api/oauth/authorize?" + query)
    page.get_by_label("Email").fill("native@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    approve = page.get_by_role("button", name="Approve")
    approve.wait_for()
    with page.expect_request(lambda r: r.url.startswith(REDIRECT), timeout=10_000) as sent:
        approve.click()
    answer = parse_qs(urlsplit(sent.value.url).query)
    assert answer["state"] == ["native-state"]
    assert answer["iss"] == [live.url]
    assert answer["code"][0].startswith("pks_ac_")
