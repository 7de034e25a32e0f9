"""Error pages (issue 17, item 3): the signed-in layout when signed in, the app's name where
known, what was tried (escaped), the next step for the person and the developer, and a real
404 page for unknown objects and routes."""

from __future__ import annotations

import html

from tests.support.pkce import pkce_pair

SIGN_OUT = '<button type="submit" class="link">Sign out</button>'


def title_of(page: str) -> str:
    return page.split("<h1>", 1)[1].split("</h1>", 1)[0]


async def test_an_unknown_app_page_says_not_found_in_the_signed_in_layout(http, alice):
    response = await http.get("/settings/oauth/pks_ci_nobody")
    assert response.status_code == 404
    assert title_of(response.text) == "Not found"
    assert "Something went wrong" not in response.text
    assert "No such application" in response.text
    assert SIGN_OUT in response.text
    assert '<code class="tried">GET /settings/oauth/pks_ci_nobody</code>' in response.text
    assert "Check the address, or go back to the page that linked here." in response.text


async def test_an_unknown_route_is_a_not_found_page_with_the_signed_in_menu(http, alice):
    response = await http.get("/no/such/page")
    assert response.status_code == 404
    assert title_of(response.text) == "Not found"
    assert "There is no page at this address." in response.text
    assert SIGN_OUT in response.text


async def test_an_unknown_route_signed_out_shows_the_signed_out_menu(http):
    response = await http.get("/no/such/page")
    assert response.status_code == 404
    assert '<a href="/login">Sign in</a>' in response.text
    assert SIGN_OUT not in response.text


async def test_what_was_tried_is_escaped(http, alice):
    response = await http.get("/settings/oauth/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.text
    assert "GET /settings/oauth/&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


async def test_an_unregistered_redirect_uri_names_the_app_what_was_sent_and_the_fix(
    driver, registered
):
    _, challenge = pkce_pair()
    response = await driver.authorize(
        registered, challenge=challenge, redirect_uri="https://evil.example/cb?<b>"
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert title_of(response.text) == "Invalid authorization request"
    assert '<strong class="app-name">Example App</strong>' in response.text
    tried = f"client_id={registered.client_id} redirect_uri=https://evil.example/cb?<b>"
    assert f'<code class="tried">{html.escape(tried, quote=False)}</code>' in response.text
    assert "Register this exact redirect URI on the app&#39;s page" in response.text
    assert SIGN_OUT in response.text


async def test_an_answered_request_is_an_expired_page_that_says_to_start_again(driver, registered):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert (await driver.decide(page, "approve")).status_code == 303
    again = await driver.decide(page, "approve")
    assert again.status_code == 400
    assert title_of(again.text) == "Request expired"
    assert "Go back to the app and start again." in again.text
