"""Security transitions under concurrency: of 20 simultaneous uses, exactly one wins."""

from __future__ import annotations

import asyncio

import pytest

CONCURRENCY = 20
REFRESH_REUSED = {
    "error": "invalid_grant",
    "error_description": "Refresh token has already been used; the authorization has been revoked",
}
REFRESH_REVOKED = {"error": "invalid_grant", "error_description": "Refresh token has been revoked"}


@pytest.fixture
def settings(settings):
    """Reuse detection itself, with no grace retries (those: tests/http/test_refresh_grace.py)."""
    return settings.with_(refresh_grace_seconds=0)


async def test_twenty_concurrent_exchanges_of_one_code_yield_exactly_one_token(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    responses = await asyncio.gather(
        *(driver.exchange(registered, auth) for _ in range(CONCURRENCY))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (CONCURRENCY - 1)
    for r in responses:
        if r.status_code == 400:
            assert r.json() == {
                "error": "invalid_grant",
                "error_description": "Authorization code has already been used",
            }
    # the replays revoke what the winner got (RFC 6749 §4.1.2)
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    assert (await driver.introspect(registered, winner["access_token"])) == {"active": False}


async def test_twenty_concurrent_refreshes_of_one_token_rotate_it_once(driver, registered):
    tokens = await driver.tokens(registered)
    responses = await asyncio.gather(
        *(driver.refresh(registered, tokens["refresh_token"]) for _ in range(CONCURRENCY))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (CONCURRENCY - 1)
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    # Each loser presented a rotated token: the first to notice revokes the family and says so,
    # the rest may already find it revoked (RFC 9700 §4.14.2).
    losers = [r.json() for r in responses if r.status_code != 200]
    assert REFRESH_REUSED in losers
    assert [body for body in losers if body not in (REFRESH_REUSED, REFRESH_REVOKED)] == []
    # the losers presented a rotated token: the whole family is revoked (RFC 9700 §4.14.2)
    assert (await driver.introspect(registered, winner["refresh_token"])) == {"active": False}


async def test_sequential_exchange_then_replay_revokes_the_tokens(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    first = await driver.exchange(registered, auth)
    assert first.status_code == 200
    second = await driver.exchange(registered, auth)
    assert (second.status_code, second.json()) == (
        400,
        {"error": "invalid_grant", "error_description": "Authorization code has already been used"},
    )
    assert (await driver.me(first.json()["access_token"])).status_code == 401
