"""Consent as a demanding user expects it (issue 17, item 1): the boxes as the user left them,
"Not you?" back to the same request for another account, and Cancel answering the app
``access_denied`` with ``state`` and ``iss`` (RFC 6749 §4.1.2.1, RFC 9207 §2)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.conftest import ISSUER
from tests.support.driver import PENDING, csrf_of
from tests.support.pkce import pkce_pair

CHECKBOX = re.compile(
    r'<input type="checkbox" id="scope-\d" name="scope" value="([^"]+)"( checked)?>'
)


def ticked(html: str) -> list[str]:
    return [name for name, checked in CHECKBOX.findall(html) if checked]


async def post_form(http, html: str, decision: str, scopes: list[str]):
    data = [("csrf_token", csrf_of(html)), ("pending_id", PENDING.search(html).group(1))]
    data += [("decision", decision)] + [("scope", s) for s in scopes]
    return await http.post(
        "/api/oauth/consent",
        content=urlencode(data),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


async def test_the_first_showing_ticks_every_requested_scope(driver, registered):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert ticked(page.text) == ["profile:read", "galleries:read", "galleries:write"]


async def test_an_approval_with_nothing_ticked_shows_every_box_unticked_and_a_second_press_grants_nothing(
    driver, registered, http
):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    again = await post_form(http, page.text, "approve", [])
    assert again.status_code == 400
    assert "Choose at least one permission to approve, or choose Cancel." in again.text
    assert [n for n, _ in CHECKBOX.findall(again.text)] == [
        "profile:read",
        "galleries:read",
        "galleries:write",
    ]
    assert ticked(again.text) == []
    # The browser posts what is ticked: still nothing, so still nothing is granted.
    second = await post_form(http, again.text, "approve", ticked(again.text))
    assert second.status_code == 400
    assert "location" not in second.headers


async def test_cancel_answers_the_app_access_denied_with_state_and_iss(driver, registered):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert (
        '<button type="submit" name="decision" value="deny" class="secondary">Cancel</button>'
        in page.text
    )
    response = await driver.decide(page, "deny")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == registered.redirect_uri
    assert parse_qs(location.query) == {
        "error": ["access_denied"],
        "error_description": ["The user denied the request"],
        "state": ["state-123"],
        "iss": [ISSUER],
    }


async def test_not_you_signs_out_and_the_next_account_is_asked_about_the_same_request(
    driver, registered, http
):
    await driver.sign_up("bob@example.com", "battery staple horse", "Bob")
    await driver.sign_out()
    await driver.sign_in("alice@example.com", "correct horse")
    verifier, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge, state="st-42")
    assert 'Signed in as <strong class="account-email">alice@example.com</strong>' in page.text
    switched = await post_form(http, page.text, "switch_account", [])
    assert switched.status_code == 303
    login = urlsplit(switched.headers["location"])
    assert login.path == "/login"
    target = parse_qs(login.query)["next"][0]
    assert target.startswith("/api/oauth/authorize?")
    # Signed out: the request now sends the visitor to sign in, and back to it.
    assert (await http.get(target)).headers["location"].startswith("/login?")
    # The account that signed out can no longer answer its pending request.
    assert (await post_form(http, page.text, "approve", ["profile:read"])).status_code in (401, 403)
    await driver.sign_in("bob@example.com", "battery staple horse")
    again = await http.get(target)
    assert again.status_code == 200
    assert 'Signed in as <strong class="account-email">bob@example.com</strong>' in again.text
    approved = await driver.decide(again, "approve", ["profile:read"])
    query = parse_qs(urlsplit(approved.headers["location"]).query)
    assert query["state"] == ["st-42"]
    tokens = await driver.http.post(
        "/api/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": registered.redirect_uri,
            "code_verifier": verifier,
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
        },
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["scope"] == "profile:read"
    me = await driver.me(tokens.json()["access_token"])
    assert me.json()["email"] == "bob@example.com"


async def test_the_menus_sign_out_on_the_consent_page_takes_the_not_you_path(driver, registered):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    nav = page.text.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert 'action="/api/oauth/consent"' in nav
    assert 'name="decision" value="switch_account">Sign out</button>' in nav
    assert 'action="/logout"' not in nav


async def test_not_you_without_the_csrf_token_is_refused_and_keeps_the_session(
    driver, registered, http
):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    pending = PENDING.search(page.text).group(1)
    response = await http.post(
        "/api/oauth/consent", data={"pending_id": pending, "decision": "switch_account"}
    )
    assert response.status_code == 403
    assert "location" not in response.headers
    assert (await driver.decide(page, "approve")).status_code == 303
