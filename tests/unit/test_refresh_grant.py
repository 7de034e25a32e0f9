"""RFC 6749 §6 and RFC 9700 §4.14.2: the refresh_token grant's refusals, exactly, and the path where
a concurrent request rotated the token first (the mutation check's killers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from piksend.oauth import tokens
from piksend.oauth.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from piksend.oauth.grants.refresh_token import REFRESH_REUSED, refresh
from piksend.oauth.types import TokenKind, TokenPolicy, Transition
from tests.unit.conftest import NOW
from tests.unit.test_grants import code_params, issue_code, token_request


async def first_pair(store, policy):
    return await token_request(store, policy, code_params(await issue_code(store, policy)))


async def do_refresh(store, policy, params, now=NOW):
    return await refresh(params, store.clients["client-1"], grants=store, policy=policy, now=now)


async def test_a_missing_refresh_token_is_an_invalid_request_saying_so(store, policy):
    with pytest.raises(InvalidRequestError) as exc:
        await do_refresh(store, policy, {})
    assert exc.value.description == "refresh_token is required"


async def test_an_access_token_presented_as_a_refresh_token_is_an_invalid_grant(store, policy):
    first = await first_pair(store, policy)
    with pytest.raises(InvalidGrantError) as exc:
        await do_refresh(store, policy, {"refresh_token": first.access_token})
    assert exc.value.description == "Invalid refresh token"


async def test_a_revoked_refresh_token_says_it_was_revoked(store, policy):
    first = await first_pair(store, policy)
    digest = tokens.digest(first.refresh_token)
    store.tokens[digest] = replace(store.tokens[digest], revoked_at=NOW)
    with pytest.raises(InvalidGrantError) as exc:
        await do_refresh(store, policy, {"refresh_token": first.refresh_token})
    assert exc.value.description == "Refresh token has been revoked"


async def test_a_scope_beyond_the_grant_is_refused_saying_so(store, policy):
    first = await first_pair(store, policy)
    params = {"refresh_token": first.refresh_token, "scope": "profile:read galleries:write"}
    with pytest.raises(InvalidScopeError) as exc:
        await do_refresh(store, policy, params)
    assert exc.value.description == "The requested scope exceeds the scope originally granted"


async def test_the_whole_granted_scope_may_be_asked_again(store, policy):
    first = await first_pair(store, policy)
    params = {"refresh_token": first.refresh_token, "scope": "galleries:read profile:read"}
    response = await do_refresh(store, policy, params)
    assert set(response.scope) == {"profile:read", "galleries:read"}


async def test_a_narrowed_refresh_keeps_the_grant_in_the_new_refresh_token(store, policy):
    first = await first_pair(store, policy)
    params = {"refresh_token": first.refresh_token, "scope": "profile:read"}
    response = await do_refresh(store, policy, params)
    access = store.tokens[tokens.digest(response.access_token)]
    new = store.tokens[tokens.digest(response.refresh_token)]
    assert response.scope == ("profile:read",)
    assert (access.kind, access.scope, access.user_id, access.resource) == (
        TokenKind.ACCESS,
        ("profile:read",),
        "usr_alice",
        "https://auth.example.com/api/v1",
    )
    assert (new.kind, new.scope, new.user_id, new.resource) == (
        TokenKind.REFRESH,
        ("profile:read", "galleries:read"),
        "usr_alice",
        "https://auth.example.com/api/v1",
    )


async def test_a_rotated_token_after_the_grace_window_revokes_the_family(store, policy):
    first = await first_pair(store, policy)
    second = await do_refresh(store, policy, {"refresh_token": first.refresh_token})
    with pytest.raises(InvalidGrantError) as exc:
        await do_refresh(
            store, policy, {"refresh_token": first.refresh_token}, NOW + timedelta(hours=1)
        )
    assert exc.value.description == REFRESH_REUSED
    assert store.tokens[tokens.digest(second.access_token)].is_active(NOW) is False


class RotatedFirst:
    """A store on which a concurrent request rotates the token between our read and our claim."""

    def __init__(self, store, outcome=Transition.CLAIM_LOST):
        self._store, self._outcome = store, outcome

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def rotate_refresh_token(self, digest, consent_id, new, now, *, keep=None):
        record = self._store.tokens[digest]
        self._store.tokens[digest] = replace(record, rotated_at=now)
        return self._outcome


async def test_a_claim_lost_outside_the_grace_window_revokes_the_family(store):
    policy = TokenPolicy(issuer="https://auth.example.com", refresh_grace_seconds=0)
    first = await first_pair(store, policy)
    with pytest.raises(InvalidGrantError) as exc:
        await refresh(
            {"refresh_token": first.refresh_token},
            store.clients["client-1"],
            grants=RotatedFirst(store),
            policy=policy,
            now=NOW,
        )
    assert exc.value.description == REFRESH_REUSED
    assert store.tokens[tokens.digest(first.access_token)].is_active(NOW) is False


async def test_a_consent_revoked_during_the_rotation_says_the_token_was_revoked(store, policy):
    first = await first_pair(store, policy)
    with pytest.raises(InvalidGrantError) as exc:
        await refresh(
            {"refresh_token": first.refresh_token},
            store.clients["client-1"],
            grants=RotatedFirst(store, Transition.CONSENT_REVOKED),
            policy=policy,
            now=NOW,
        )
    assert exc.value.description == "Refresh token has been revoked"


class WinnerRotatesFirst:
    """A store on which a concurrent request with the same token wins the rotation (and keeps
    its successor response for retries) after our read and before our claim."""

    def __init__(self, store, policy, presented):
        self._store, self._policy, self._presented = store, policy, presented
        self.winner = None

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def rotate_refresh_token(self, digest, consent_id, new, now, *, keep=None):
        self.winner = await do_refresh(
            self._store, self._policy, {"refresh_token": self._presented}, now
        )
        return Transition.CLAIM_LOST


async def test_a_claim_lost_inside_the_grace_window_gets_the_winners_successor(store, policy):
    # RFC 9700 §4.14.2 with grace retries: two requests with the same token at once are a
    # retry, not reuse; the one that lost the claim gets the very tokens the winner minted
    # (single successor), and nothing is revoked.
    first = await first_pair(store, policy)
    grants = WinnerRotatesFirst(store, policy, first.refresh_token)

    response = await refresh(
        {"refresh_token": first.refresh_token},
        store.clients["client-1"],
        grants=grants,
        policy=policy,
        now=NOW,
    )

    assert response.to_dict() == grants.winner.to_dict()
    assert store.tokens[tokens.digest(response.refresh_token)].is_active(NOW) is True
    assert store.consents[next(iter(store.consents))]["revoked_at"] is None


async def test_a_refresh_of_a_row_from_before_resource_indicators_binds_the_issuers_api(
    store, policy
):
    # RFC 8707 §2.2: the new tokens keep the grant's resource; a row recorded before resource
    # indicators holds the API's path (migration 0007), which means this issuer's API.
    first = await first_pair(store, policy)
    digest = tokens.digest(first.refresh_token)
    store.tokens[digest] = replace(store.tokens[digest], resource="/api/v1")

    response = await do_refresh(store, policy, {"refresh_token": first.refresh_token})

    api = "https://auth.example.com/api/v1"
    assert store.tokens[tokens.digest(response.access_token)].resource == api
    assert store.tokens[tokens.digest(response.refresh_token)].resource == api
