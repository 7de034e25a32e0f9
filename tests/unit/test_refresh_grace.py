"""Issue 10, item 5: a retried refresh is not an attack (piksend.oauth.refresh_grace, RFC 9700
§4.14.2), on the in-memory store; the sealing of the kept response (storage/oauth/sealed.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from piksend.oauth import refresh_grace, tokens
from piksend.oauth.errors import InvalidGrantError
from piksend.oauth.revocation import revoke
from piksend.oauth.types import TokenKind, TokenRecord, TokenResponse
from piksend.storage.oauth import sealed
from tests.unit.conftest import NOW, SECRET
from tests.unit.test_grants import code_params, issue_code, refresh_params, token_request

REUSED = "Refresh token has already been used; the authorization has been revoked"


async def rotated_once(store, policy):
    """A grant's first pair, and the successor response of its first refresh."""
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    second = await token_request(store, policy, refresh_params(first.refresh_token))
    return first, second


def live_tokens(store) -> set[str]:
    return {d for d, r in store.tokens.items() if r.revoked_at is None}


async def test_a_retry_inside_the_window_gets_the_same_successor_and_mints_nothing(store, policy):
    first, second = await rotated_once(store, policy)
    minted = set(store.tokens)
    later = NOW + timedelta(seconds=59)
    retry = await token_request(store, policy, refresh_params(first.refresh_token), now=later)
    assert isinstance(retry, refresh_grace.ReplayedResponse)
    assert retry.to_dict() == second.to_dict()
    assert set(store.tokens) == minted
    assert live_tokens(store) == minted  # nothing revoked
    assert store.consents[next(iter(store.consents))]["revoked_at"] is None


async def test_every_retry_inside_the_window_sees_the_same_tokens(store, policy):
    first, second = await rotated_once(store, policy)
    retries = [
        (await token_request(store, policy, refresh_params(first.refresh_token), now=at)).to_dict()
        for at in (NOW, NOW + timedelta(seconds=1), NOW + timedelta(seconds=30))
    ]
    assert retries == [second.to_dict()] * 3


async def test_a_retry_when_the_window_has_ended_is_reuse_and_revokes_the_family(store, policy):
    first, _ = await rotated_once(store, policy)
    ended = NOW + timedelta(seconds=policy.refresh_grace_seconds)
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, refresh_params(first.refresh_token), now=ended)
    assert exc.value.description == REUSED
    assert live_tokens(store) == set()
    assert store.consents[next(iter(store.consents))]["revoked_at"] == ended


async def test_after_the_successors_first_use_the_old_token_is_reuse(store, policy):
    first, second = await rotated_once(store, policy)
    third = await token_request(store, policy, refresh_params(second.refresh_token))
    assert store.retries.keys() == {tokens.digest(second.refresh_token)}  # first's copy dropped
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, refresh_params(first.refresh_token))
    assert exc.value.description == REUSED
    assert store.tokens[tokens.digest(third.refresh_token)].revoked_at == NOW
    assert store.retries == {}  # the revocation drops every copy of the consent


async def test_after_the_successor_is_revoked_the_old_token_gets_nothing(store, policy):
    first, second = await rotated_once(store, policy)
    params = {"token": second.refresh_token, "client_id": "client-1", "client_secret": SECRET}
    client = store.clients["client-1"]
    await revoke(params, client, grants=store, now=NOW)  # RFC 7009 §2.1: the whole grant
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, refresh_params(first.refresh_token))
    assert exc.value.description == "Refresh token has been revoked"
    assert store.retries == {}


async def test_with_the_window_at_zero_every_presentation_is_reuse_and_nothing_is_kept(
    store, policy
):
    policy = replace(policy, refresh_grace_seconds=0)
    first, second = await rotated_once(store, policy)
    assert store.retries == {}
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, refresh_params(first.refresh_token))
    assert exc.value.description == REUSED
    assert store.tokens[tokens.digest(second.refresh_token)].revoked_at == NOW


async def test_another_client_presenting_a_rotated_token_gets_no_retry_and_no_revocation(
    store, policy
):
    first, second = await rotated_once(store, policy)
    other = refresh_params(first.refresh_token, client_id="client-2", client_secret=SECRET + "-2")
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, other)
    assert exc.value.description == "Invalid refresh token"
    assert store.tokens[tokens.digest(second.refresh_token)].revoked_at is None


def record(**changes) -> TokenRecord:
    base = TokenRecord(
        digest="d" * 64,
        kind=TokenKind.REFRESH,
        consent_id="cns_1",
        client_id="client-1",
        user_id="usr_alice",
        scope=("profile:read",),
        issued_at=NOW,
        expires_at=NOW + timedelta(days=30),
        rotated_at=NOW,
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("changes", "seconds_later", "window", "expected"),
    [
        ({}, 0, 60, True),
        ({}, 59, 60, True),
        ({}, 60, 60, False),  # "less than N seconds ago"
        ({}, 0, 0, False),  # grace retries off
        ({"rotated_at": NOW + timedelta(seconds=5)}, 0, 0, False),  # off, whatever the clocks say
        ({}, 0, 1, True),  # a window of one second is on
        ({"client_id": "client-2"}, 0, 60, False),
        ({"revoked_at": NOW}, 0, 60, False),
        ({"rotated_at": None}, 0, 60, True),  # a claim just lost to a concurrent rotation
    ],
)
def test_which_presentations_may_be_grace_retries(store, changes, seconds_later, window, expected):
    now = NOW + timedelta(seconds=seconds_later)
    client = store.clients["client-1"]
    assert refresh_grace.may_be_retry(record(**changes), client, window=window, now=now) is (
        expected
    )


def test_a_sealed_response_opens_only_with_its_own_token_and_digest():
    token, other = tokens.generate(tokens.Prefix.REFRESH_TOKEN), "pks_rt_" + "x" * 43
    box = sealed.seal(token, tokens.digest(token), '{"access_token":"pks_at_secret"}')
    assert sealed.unseal(token, tokens.digest(token), box) == '{"access_token":"pks_at_secret"}'
    assert sealed.unseal(other, tokens.digest(token), box) is None
    assert sealed.unseal(token, tokens.digest(other), box) is None
    tampered = box[:-1] + bytes([box[-1] ^ 1])
    assert sealed.unseal(token, tokens.digest(token), tampered) is None
    assert b"pks_at_secret" not in box
    # A fresh salt and nonce each time: the same response never seals to the same bytes.
    assert sealed.seal(token, tokens.digest(token), "same") != sealed.seal(
        token, tokens.digest(token), "same"
    )


def successor_response() -> TokenResponse:
    return TokenResponse(
        access_token="pks_at_" + "a" * 43,
        refresh_token="pks_rt_" + "b" * 43,
        expires_in=3600,
        scope=("profile:read", "galleries:read"),
    )


@pytest.mark.parametrize("window", [1, 60])
def test_a_rotation_keeps_its_successor_response_for_the_window(window):
    # RFC 9700 §4.14.2 with grace retries: the copy is for this client's retries of the rotated
    # token, ends with the successor's first use or the window, and holds the RFC 6749 §5.1
    # body as compact JSON.
    rotated = record(client_id="client-7", consent_id="cns_9", rotated_at=None)
    successor = record(digest="e" * 64, client_id="client-7", consent_id="cns_9")

    copy = refresh_grace.keep_for_retries(
        presented="pks_rt_presented",
        digest=rotated.digest,
        record=rotated,
        response=successor_response(),
        successor=successor,
        window=window,
        now=NOW,
    )

    assert copy == refresh_grace.RetryCopy(
        digest="d" * 64,
        presented="pks_rt_presented",
        successor="e" * 64,
        consent_id="cns_9",
        client_id="client-7",
        response=(
            '{"access_token":"pks_at_' + "a" * 43 + '","token_type":"Bearer",'
            '"expires_in":3600,"refresh_token":"pks_rt_' + "b" * 43 + '",'
            '"scope":"profile:read galleries:read"}'
        ),
        expires_at=NOW + timedelta(seconds=window),
    )


def test_with_grace_retries_off_a_rotation_keeps_nothing():
    kept = refresh_grace.keep_for_retries(
        presented="pks_rt_presented",
        digest="d" * 64,
        record=record(),
        response=successor_response(),
        successor=record(digest="e" * 64),
        window=0,
        now=NOW,
    )
    assert kept is None


def test_a_replayed_response_is_the_kept_one_field_for_field():
    # The kept body is given back as it was kept, every RFC 6749 §5.1 field of it (a copy
    # kept with another token_type, RFC 6749 §7.1, keeps it).
    kept = (
        '{"access_token":"pks_at_x","token_type":"DPoP","expires_in":600,'
        '"refresh_token":"pks_rt_y","scope":"profile:read galleries:read"}'
    )

    replay = refresh_grace.replayed(kept)

    assert replay == refresh_grace.ReplayedResponse(
        access_token="pks_at_x",
        refresh_token="pks_rt_y",
        expires_in=600,
        scope=("profile:read", "galleries:read"),
        token_type="DPoP",
    )
    assert json.dumps(replay.to_dict(), separators=(",", ":")) == kept
