"""Cross-client rules and refresh-token reuse through HTTP, on SQLite and PostgreSQL.

The same rules are unit-tested on the in-memory store (``tests/unit/test_grants.py``); here they
are pinned end to end, with the exact bodies, on both databases (the ``database_url`` fixture).
"""

from __future__ import annotations

import pytest

INVALID_CODE = {"error": "invalid_grant", "error_description": "Invalid authorization code"}
INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Invalid refresh token"}
REFRESH_REUSED = {
    "error": "invalid_grant",
    "error_description": "Refresh token has already been used; the authorization has been revoked",
}
REFRESH_REVOKED = {"error": "invalid_grant", "error_description": "Refresh token has been revoked"}
INACTIVE = {"active": False}


@pytest.fixture
def settings(settings):
    """Reuse detection itself, with no grace retries (those: tests/http/test_refresh_grace.py)."""
    return settings.with_(refresh_grace_seconds=0)


@pytest.fixture
async def other(driver, alice):
    """A second confidential app of the same developer: the same user, another client."""
    return await driver.register_app(
        alice.id, name="Other App", redirect_uris=("https://other.example.com/callback",)
    )


async def test_introspecting_another_clients_token_reads_inactive(driver, registered, other):
    tokens = await driver.tokens(registered)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert (await driver.introspect(other, token)) == INACTIVE
        assert (await driver.introspect(registered, token))["active"] is True


async def test_revoking_another_clients_access_token_answers_200_and_changes_nothing(
    driver, registered, other
):
    tokens = await driver.tokens(registered)
    response = await driver.revoke(other, tokens["access_token"])
    assert (response.status_code, response.json()) == (200, {})
    assert (await driver.me(tokens["access_token"])).status_code == 200
    assert (await driver.introspect(registered, tokens["access_token"]))["active"] is True


async def test_revoking_another_clients_refresh_token_leaves_its_family_alive(
    driver, registered, other
):
    tokens = await driver.tokens(registered)
    response = await driver.revoke(other, tokens["refresh_token"])
    assert (response.status_code, response.json()) == (200, {})
    assert (await driver.me(tokens["access_token"])).status_code == 200
    refreshed = await driver.refresh(registered, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text


async def test_redeeming_another_clients_code_is_invalid_grant_and_leaves_the_code_unspent(
    driver, registered, other
):
    auth = await driver.authorize_and_approve(registered)
    stolen = await driver.exchange(other, auth, redirect_uri=other.redirect_uri)
    assert (stolen.status_code, stolen.json()) == (400, INVALID_CODE)
    assert stolen.headers["cache-control"] == "no-store"
    # the same code with its own redirect URI, by the thief: still nothing
    stolen = await driver.exchange(other, auth)
    assert (stolen.status_code, stolen.json()) == (400, INVALID_CODE)
    # the rightful app still redeems it once
    assert (await driver.exchange(registered, auth)).status_code == 200


async def test_refreshing_with_another_clients_refresh_token_is_invalid_grant_and_spends_nothing(
    driver, registered, other
):
    tokens = await driver.tokens(registered)
    stolen = await driver.refresh(other, tokens["refresh_token"])
    assert (stolen.status_code, stolen.json()) == (400, INVALID_REFRESH)
    # neither rotated nor revoked: the owner's refresh succeeds and the access token still works
    assert (await driver.me(tokens["access_token"])).status_code == 200
    assert (await driver.refresh(registered, tokens["refresh_token"])).status_code == 200


async def test_a_redirect_uri_other_than_the_authorization_requests_is_invalid_grant(driver, alice):
    app = await driver.register_app(
        alice.id,
        redirect_uris=("https://app.example.com/callback", "https://app.example.com/other"),
    )
    auth = await driver.authorize_and_approve(app)
    response = await driver.exchange(app, auth, redirect_uri="https://app.example.com/other")
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": "invalid_grant",
            "error_description": "redirect_uri does not match the authorization request",
        },
    )
    missing = await driver.exchange(app, auth, redirect_uri=None)
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "invalid_request", "error_description": "redirect_uri is required"},
    )


async def test_a_rotated_refresh_token_presented_again_revokes_the_whole_family(driver, registered):
    first = await driver.tokens(registered)
    rotated = await driver.refresh(registered, first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()

    replay = await driver.refresh(registered, first["refresh_token"])
    assert (replay.status_code, replay.json()) == (400, REFRESH_REUSED)
    assert replay.headers["cache-control"] == "no-store"
    # RFC 9700 §4.14.2: the legitimate holder's newer tokens die with the stolen one
    after = await driver.refresh(registered, second["refresh_token"])
    assert (after.status_code, after.json()) == (400, REFRESH_REVOKED)
    for token in (first["access_token"], second["access_token"], second["refresh_token"]):
        assert (await driver.introspect(registered, token)) == INACTIVE
    assert (await driver.me(second["access_token"])).status_code == 401
    # the first one, presented once more, now reads as revoked
    again = await driver.refresh(registered, first["refresh_token"])
    assert (again.status_code, again.json()) == (400, REFRESH_REVOKED)
