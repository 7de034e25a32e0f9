"""Public clients at the endpoints (issue 12): RFC 6749 §2.1 and §3.2.1 (client_id alone),
RFC 7636 (PKCE as for everyone), RFC 9700 §4.14.2 (rotation with reuse detection), RFC 7009
§2.1 (revocation by client_id), RFC 7662 §2.1 (no introspection), on both databases."""

from __future__ import annotations

import asyncio

import pytest

from piksend.oauth.types import ClientType

CONCURRENCY = 20
PUBLIC_SENT_SECRET = {
    "error": "invalid_client",
    "error_description": "This client is public and has no client_secret: send client_id "
    "alone, without a secret or HTTP Basic credentials",
}
REFRESH_REUSED = {
    "error": "invalid_grant",
    "error_description": "Refresh token has already been used; the authorization has been revoked",
}
FAMILY_REVOKED = {"error": "invalid_grant", "error_description": "Refresh token has been revoked"}


@pytest.fixture
def settings(settings):
    """Reuse detection itself, with no grace retries (those: tests/http/test_refresh_grace.py)."""
    return settings.with_(refresh_grace_seconds=0)


@pytest.fixture
async def public_app(driver, alice):
    return await driver.register_app(
        alice.id,
        redirect_uris=("https://spa.example.com/callback",),
        client_type=ClientType.PUBLIC,
        name="Browser App",
    )


async def test_a_public_client_runs_the_whole_flow_with_its_client_id_alone(driver, public_app):
    assert public_app.client_secret is None
    auth = await driver.authorize_and_approve(public_app)
    exchanged = await driver.exchange(public_app, auth, form=True)
    assert exchanged.status_code == 200, exchanged.text
    first = exchanged.json()
    assert (await driver.me(first["access_token"])).status_code == 200
    refreshed = await driver.refresh(public_app, first["refresh_token"], form=True)
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    revoked = await driver.revoke(public_app, second["refresh_token"])
    assert (revoked.status_code, revoked.json()) == (200, {})
    assert (await driver.me(second["access_token"])).status_code == 401


async def test_a_public_client_still_needs_its_pkce_verifier(driver, public_app):
    auth = await driver.authorize_and_approve(public_app)
    response = await driver.exchange(public_app, auth, code_verifier="x" * 43)
    assert (response.status_code, response.json()) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid code_verifier"},
    )


async def test_a_secret_sent_in_the_body_by_a_public_client_is_refused(driver, public_app):
    auth = await driver.authorize_and_approve(public_app)
    response = await driver.exchange(public_app, auth, client_secret="pks_cs_guess")
    assert (response.status_code, response.json()) == (401, PUBLIC_SENT_SECRET)
    assert "www-authenticate" not in response.headers


async def test_a_secret_sent_in_http_basic_by_a_public_client_is_refused(driver, public_app):
    auth = await driver.authorize_and_approve(public_app)
    response = await driver.http.post(
        "/api/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": auth.code,
            "redirect_uri": auth.redirect_uri,
            "code_verifier": auth.verifier,
        },
        auth=(public_app.client_id, "pks_cs_guess"),
    )
    assert (response.status_code, response.json()) == (401, PUBLIC_SENT_SECRET)
    assert response.headers["www-authenticate"] == 'Basic realm="piksend", charset="UTF-8"'


async def test_a_confidential_app_without_its_secret_is_refused(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    response = await driver.exchange(registered, auth, client_secret=None)
    assert (response.status_code, response.json()) == (
        401,
        {
            "error": "invalid_client",
            "error_description": "Client authentication required: send client_id and client_secret",
        },
    )


async def test_introspection_refuses_a_public_client(driver, public_app):
    tokens = await driver.tokens(public_app)
    response = await driver.http.post(
        "/api/oauth/introspect",
        data={"token": tokens["access_token"], "client_id": public_app.client_id},
    )
    assert (response.status_code, response.json()) == (
        401,
        {
            "error": "invalid_client",
            "error_description": "Token introspection requires an authenticated client; a "
            "public client cannot use it",
        },
    )


async def test_revoking_another_apps_token_as_a_public_client_changes_nothing(
    driver, public_app, registered
):
    tokens = await driver.tokens(registered)
    revoked = await driver.revoke(public_app, tokens["access_token"])
    assert (revoked.status_code, revoked.json()) == (200, {})
    assert (await driver.me(tokens["access_token"])).status_code == 200


async def test_a_rotated_refresh_token_presented_again_revokes_the_public_clients_family(
    driver, public_app
):
    first = await driver.tokens(public_app)
    second = (await driver.refresh(public_app, first["refresh_token"])).json()
    replay = await driver.refresh(public_app, first["refresh_token"])
    assert (replay.status_code, replay.json()) == (400, REFRESH_REUSED)
    after = await driver.refresh(public_app, second["refresh_token"])
    assert (after.status_code, after.json()) == (400, FAMILY_REVOKED)
    assert (await driver.me(second["access_token"])).status_code == 401


async def test_twenty_concurrent_refreshes_by_a_public_client_have_exactly_one_winner(
    driver, public_app
):
    tokens = await driver.tokens(public_app)
    responses = await asyncio.gather(
        *(driver.refresh(public_app, tokens["refresh_token"]) for _ in range(CONCURRENCY))
    )
    winners = [r for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code != 200]
    assert (len(winners), {r.status_code for r in losers}) == (1, {400})
    bodies = [r.json() for r in losers]
    # Each loser saw the reuse (RFC 9700 §4.14.2) or the family it had just revoked.
    assert [b for b in bodies if b not in (REFRESH_REUSED, FAMILY_REVOKED)] == []
    assert REFRESH_REUSED in bodies
    assert (await driver.me(winners[0].json()["access_token"])).status_code == 401
    after = await driver.refresh(public_app, winners[0].json()["refresh_token"])
    assert (after.status_code, after.json()) == (400, FAMILY_REVOKED)


async def test_a_public_clients_code_redeemed_twenty_ways_at_once_yields_one_token(
    driver, public_app
):
    auth = await driver.authorize_and_approve(public_app)
    responses = await asyncio.gather(
        *(driver.exchange(public_app, auth) for _ in range(CONCURRENCY))
    )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1
    assert [(r.status_code, r.json()) for r in responses if r.status_code != 200] == [
        (
            400,
            {
                "error": "invalid_grant",
                "error_description": "Authorization code has already been used",
            },
        )
    ] * (CONCURRENCY - 1)
    # the replays revoke what the winner got (RFC 6749 §4.1.2)
    assert (await driver.me(winners[0].json()["access_token"])).status_code == 401
