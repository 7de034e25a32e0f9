"""GET /api/oauth/authorize and the consent form through the app (RFC 6749 §4.1.1–4.1.2.1)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from piksend.clients.logos import logo_path
from tests.conftest import ISSUER
from tests.support.pkce import pkce_pair


async def test_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(
    driver, registered
):
    _, challenge = pkce_pair()
    response = await driver.authorize(
        registered, challenge=challenge, redirect_uri="https://evil.example/cb"
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "redirect_uri does not match any registered URIs" in response.text


async def test_unknown_client_shows_an_error_page(driver, registered):
    _, challenge = pkce_pair()
    response = await driver.authorize(registered, challenge=challenge, client_id="pks_ci_nobody")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Unknown client_id" in response.text


async def test_missing_pkce_redirects_with_invalid_request_state_and_iss(driver, registered, http):
    params = driver.authorize_params(registered)
    response = await http.get("/api/oauth/authorize?" + urlencode(params))
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == registered.redirect_uri
    assert parse_qs(location.query) == {
        "error": ["invalid_request"],
        "error_description": ["code_challenge is required (PKCE)"],
        "state": ["state-123"],
        "iss": [ISSUER],
    }


async def test_signed_out_user_is_sent_to_login_and_back_to_the_consent_screen(
    driver, registered, http
):
    await driver.sign_out()
    _, challenge = pkce_pair()
    response = await driver.authorize(registered, challenge=challenge)
    assert response.status_code == 302
    login_url = response.headers["location"]
    assert login_url.startswith("/login?next=")
    login_page = await http.get(login_url)
    from tests.support.driver import csrf_of

    next_value = re.search(r'name="next" value="([^"]+)"', login_page.text).group(1)
    posted = await http.post(
        "/login",
        data={
            "csrf_token": csrf_of(login_page.text),
            "email": "alice@example.com",
            "password": "correct horse",
            "next": next_value.replace("&amp;", "&"),
        },
    )
    assert posted.status_code == 303
    consent = await http.get(posted.headers["location"])
    assert consent.status_code == 200
    assert 'name="pending_id"' in consent.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
async def test_login_returns_only_to_local_paths(driver, alice, http, target):
    await driver.sign_out()
    page = await http.get("/login")
    from tests.support.driver import csrf_of

    response = await http.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "alice@example.com",
            "password": "correct horse",
            "next": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_consent_page_shows_the_app_and_each_scope_escaped(driver, alice):
    app = await driver.register_app(
        alice.id,
        name="<script>alert(1)</script>",
        description="Makes <b>albums</b>",
        logo_url="https://cdn.example.com/logo.png",
        website_url="https://app.example.com",
        scopes="profile:read galleries:read",
    )
    _, challenge = pkce_pair()
    page = await driver.authorize(app, challenge=challenge)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "Makes &lt;b&gt;albums&lt;/b&gt;" in page.text
    # issue 15: the logo is served by piksend, never hot-linked from the developer's server
    logo = logo_path(app.client_id, "<script>alert(1)</script>", "https://cdn.example.com/logo.png")
    assert f'<img class="app-logo" src="{logo}"' in page.text
    assert "cdn.example.com" not in page.text
    assert "app.example.com" in page.text
    assert "Read basic profile information (name, email, avatar)" in page.text
    assert "View your galleries and their settings" in page.text
    assert page.text.count('type="checkbox"') == 2


async def test_consent_and_login_pages_cannot_be_framed_or_cached(driver, registered, http):
    _, challenge = pkce_pair()
    consent = await driver.authorize(registered, challenge=challenge)
    login = await http.get("/login")
    for response in (consent, login):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
    assert consent.headers["referrer-policy"] == "no-referrer"


async def test_consent_without_csrf_token_is_refused(driver, registered, http):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    pending = re.search(r'name="pending_id" value="([^"]+)"', page.text).group(1)
    response = await http.post(
        "/api/oauth/consent",
        data={"pending_id": pending, "decision": "approve", "scope": "profile:read"},
    )
    assert response.status_code == 403
    assert "location" not in response.headers


async def test_consent_decision_is_taken_once(driver, registered):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    first = await driver.decide(page, "approve")
    second = await driver.decide(page, "approve")
    assert first.status_code == 303
    assert second.status_code == 400
    assert "expired or was already answered" in second.text


async def test_consent_with_no_scope_ticked_asks_again(driver, registered):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    response = await driver.decide(page, "approve", scopes=[])
    assert response.status_code == 400
    assert "Choose at least one permission to approve, or choose Cancel." in response.text
    assert (await driver.decide(page, "approve")).status_code == 303


async def test_consent_form_cannot_add_scopes_that_were_not_requested(driver, registered):
    auth = await driver.authorize_and_approve(
        registered, scope="profile:read", scopes=["profile:read", "galleries:write"]
    )
    response = await driver.exchange(registered, auth)
    assert response.json()["scope"] == "profile:read"


async def test_another_users_pending_request_cannot_be_answered(driver, registered, http):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    await driver.sign_out()
    await driver.sign_up("mallory@example.com", "quiet otter lantern", "Mallory")
    response = await driver.decide(page, "approve")
    assert response.status_code == 400


async def test_a_redirect_uri_removed_while_the_consent_screen_is_open_gets_nothing(
    driver, alice, app
):
    from piksend.clients.registry import update_app
    from piksend.clients.validation import AppFields

    registered = await driver.register_app(
        alice.id, redirect_uris=("https://app.example.com/callback", "https://old.example.com/cb")
    )
    _, challenge = pkce_pair()
    page = await driver.authorize(
        registered, challenge=challenge, redirect_uri="https://old.example.com/cb"
    )
    assert page.status_code == 200
    async with app.state.ctx.db.unit_of_work() as s:
        await update_app(
            s,
            owner_id=alice.id,
            client_id=registered.client_id,
            fields=AppFields(
                name="Example App",
                redirect_uris=("https://app.example.com/callback",),
                scopes=tuple(registered.scopes.split()),
            ),
            now=app.state.ctx.now(),
        )
    response = await driver.decide(page, "approve")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri does not match any registered URIs" in response.text


async def test_scopes_removed_from_the_app_while_consent_is_open_are_not_granted(
    driver, alice, app
):
    from piksend.clients.registry import update_app
    from piksend.clients.validation import AppFields

    registered = await driver.register_app(alice.id, scopes="profile:read galleries:read")
    verifier, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    async with app.state.ctx.db.unit_of_work() as s:
        await update_app(
            s,
            owner_id=alice.id,
            client_id=registered.client_id,
            fields=AppFields(
                name="Example App",
                redirect_uris=(registered.redirect_uri,),
                scopes=("profile:read",),
            ),
            now=app.state.ctx.now(),
        )
    response = await driver.decide(page, "approve")
    assert response.status_code == 303
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    from tests.support.driver import Authorization

    exchanged = await driver.exchange(
        registered, Authorization(code, verifier, "state-123", registered.redirect_uri, "")
    )
    assert exchanged.json()["scope"] == "profile:read"
