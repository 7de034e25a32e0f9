"""A grant's lifetime (RFC 9700 §4.14.2): an idle timeout and an absolute end, in the core."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from piksend.oauth import grant_lifetime, tokens
from piksend.oauth.errors import InvalidGrantError
from piksend.oauth.types import TokenPolicy
from tests.unit.conftest import NOW, SECRET
from tests.unit.test_grants import code_params, issue_code, token_request

DAY = timedelta(days=1)
GRANTED = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = TokenPolicy(issuer="https://piksend.test", refresh_token_ttl=30 * 86400)


def test_the_defaults_are_thirty_days_idle_and_ninety_days_in_all():
    assert (TokenPolicy(issuer="x").refresh_token_ttl, TokenPolicy(issuer="x").grant_max_age) == (
        30 * 86400,
        90 * 86400,
    )


def test_a_refresh_token_lasts_the_idle_timeout_while_the_grant_is_young():
    now = GRANTED + 10 * DAY
    assert grant_lifetime.refresh_expiry(POLICY, now=now, granted_at=GRANTED) == now + 30 * DAY


def test_a_refresh_token_never_outlives_the_grants_absolute_end():
    now = GRANTED + 80 * DAY
    assert grant_lifetime.refresh_expiry(POLICY, now=now, granted_at=GRANTED) == GRANTED + 90 * DAY


def test_the_grant_ends_at_ninety_days_and_not_a_second_before():
    grant_lifetime.check_not_ended(
        POLICY, now=GRANTED + 90 * DAY - timedelta(seconds=1), granted_at=GRANTED
    )
    with pytest.raises(InvalidGrantError) as ended:
        grant_lifetime.check_not_ended(POLICY, now=GRANTED + 90 * DAY, granted_at=GRANTED)
    assert ended.value.to_dict() == {
        "error": "invalid_grant",
        "error_description": grant_lifetime.GRANT_ENDED,
    }


def test_access_ends_an_idle_timeout_after_the_last_use_within_the_absolute_end():
    assert grant_lifetime.access_ends(POLICY, granted_at=GRANTED, last_used_at=None) == (
        GRANTED + 30 * DAY
    )
    assert grant_lifetime.access_ends(
        POLICY, granted_at=GRANTED, last_used_at=GRANTED + 20 * DAY
    ) == (GRANTED + 50 * DAY)
    assert grant_lifetime.access_ends(
        POLICY, granted_at=GRANTED, last_used_at=GRANTED + 85 * DAY
    ) == (GRANTED + 90 * DAY)


def refresh_params(refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "client-1",
        "client_secret": SECRET,
    }


async def test_rotation_late_in_a_grant_gives_a_successor_that_ends_with_the_grant(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    # Used every 20 days, the grant still ends 90 days after it was made.
    token = first.refresh_token
    for day in (20, 40, 60, 80):
        token = (
            await token_request(store, policy, refresh_params(token), NOW + day * DAY)
        ).refresh_token
    assert store.tokens[tokens.digest(token)].expires_at == NOW + 90 * DAY
    with pytest.raises(InvalidGrantError) as ended:
        await token_request(store, policy, refresh_params(token), NOW + 90 * DAY)
    assert ended.value.description == "Refresh token has expired"


async def test_a_grant_shorter_than_the_idle_timeout_is_refused_at_its_end(store, policy):
    policy = replace(policy, grant_max_age=10 * 86400)
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    assert store.tokens[tokens.digest(first.refresh_token)].expires_at == NOW + 10 * DAY
    with pytest.raises(InvalidGrantError):
        await token_request(store, policy, refresh_params(first.refresh_token), NOW + 10 * DAY)


async def test_a_refresh_token_unused_for_the_idle_timeout_has_expired(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    second = await token_request(store, policy, refresh_params(first.refresh_token), NOW + DAY)
    with pytest.raises(InvalidGrantError) as idle:
        await token_request(store, policy, refresh_params(second.refresh_token), NOW + 31 * DAY)
    assert idle.value.description == "Refresh token has expired"


async def test_the_absolute_end_is_checked_even_when_a_stored_expiry_is_later(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    digest = tokens.digest(first.refresh_token)
    store.tokens[digest] = replace(store.tokens[digest], expires_at=NOW + 400 * DAY)
    with pytest.raises(InvalidGrantError) as ended:
        await token_request(store, policy, refresh_params(first.refresh_token), NOW + 90 * DAY)
    assert ended.value.to_dict() == {
        "error": "invalid_grant",
        "error_description": grant_lifetime.GRANT_ENDED,
    }
