"""The core's refusals, each with its exact description, and the writes revocation and a lost
code claim make (RFC 6750 §3.1, RFC 7636 §4.6, RFC 7009 §2.1, RFC 6749 §4.1.2): the mutation
check's killers, for branches no other unit test tells apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from piksend.oauth import pkce, tokens
from piksend.oauth.bearer import MAX_TOKEN_LENGTH, authenticate_bearer, extract_token
from piksend.oauth.errors import (
    BearerTokenError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
)
from piksend.oauth.grants.authorization_code import exchange_code
from piksend.oauth.revocation import revoke
from piksend.oauth.types import Transition
from tests.unit.conftest import NOW
from tests.unit.test_grants import code_params, issue_code, token_request

API = "https://auth.example.com/api/v1"


async def first_pair(store, policy):
    return await token_request(store, policy, code_params(await issue_code(store, policy)))


@pytest.mark.parametrize(
    "value", ["", "a b", "x" * (MAX_TOKEN_LENGTH + 1)], ids=["empty", "space", "too-long"]
)
def test_a_malformed_bearer_token_is_refused_saying_so(value):
    with pytest.raises(BearerTokenError) as exc:
        extract_token("Bearer " + value)
    assert exc.value.description == "The access token is malformed"


def test_a_bearer_token_of_the_longest_length_is_taken():
    assert extract_token("Bearer " + "x" * MAX_TOKEN_LENGTH) == "x" * MAX_TOKEN_LENGTH


async def bearer_error(store, header, now=NOW) -> str:
    with pytest.raises(BearerTokenError) as exc:
        await authenticate_bearer(header, grants=store, now=now, resource=API)
    return exc.value.description


async def test_bearer_refusals_say_which_rule(store, policy):
    first = await first_pair(store, policy)
    assert await bearer_error(store, "Bearer pks_at_unknown") == "The access token is invalid"
    assert await bearer_error(store, "Bearer " + first.refresh_token) == (
        "The access token is invalid"
    )
    at_expiry = NOW + timedelta(seconds=3600)
    assert await bearer_error(store, "Bearer " + first.access_token, at_expiry) == (
        "The access token has expired"
    )
    digest = tokens.digest(first.access_token)
    store.tokens[digest] = replace(store.tokens[digest], revoked_at=NOW)
    assert await bearer_error(store, "Bearer " + first.access_token) == (
        "The access token has been revoked"
    )


@pytest.mark.parametrize("verifier", [None, ""])
def test_a_missing_code_verifier_is_an_invalid_request_saying_so(verifier):
    with pytest.raises(InvalidRequestError) as exc:
        pkce.verify(verifier, pkce.s256("v" * 43))
    assert exc.value.description == "code_verifier is required"


@pytest.mark.parametrize("params", [{}, {"token": ""}])
async def test_revocation_without_a_token_is_an_invalid_request_saying_so(store, params):
    with pytest.raises(InvalidRequestError) as exc:
        await revoke(params, store.clients["client-1"], grants=store, now=NOW)
    assert exc.value.description == "token is required"


async def test_revoking_an_access_token_revokes_it_alone_at_that_instant(store, policy):
    first = await first_pair(store, policy)
    later = NOW + timedelta(seconds=5)
    await revoke({"token": first.access_token}, store.clients["client-1"], grants=store, now=later)
    assert store.tokens[tokens.digest(first.access_token)].revoked_at == later
    assert store.tokens[tokens.digest(first.refresh_token)].is_active(later) is True


class ClaimedFirst:
    """A store on which a concurrent exchange redeems the code between our read and our claim."""

    def __init__(self, store, outcome):
        self._store, self._outcome = store, outcome

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def redeem_code(self, digest, consent_id, new, now):
        return self._outcome


async def exchange(store, policy, grants, params):
    return await exchange_code(
        params, store.clients["client-1"], grants=grants, policy=policy, now=NOW
    )


async def test_a_code_claimed_by_a_concurrent_exchange_revokes_the_grant(store, policy):
    issued = await issue_code(store, policy)
    grants = ClaimedFirst(store, Transition.CLAIM_LOST)
    with pytest.raises(InvalidGrantError) as exc:
        await exchange(store, policy, grants, code_params(issued))
    assert exc.value.description == "Authorization code has already been used"
    (consent,) = store.consents.values()
    assert consent["revoked_at"] == NOW


async def test_a_consent_revoked_during_the_exchange_says_so(store, policy):
    issued = await issue_code(store, policy)
    grants = ClaimedFirst(store, Transition.CONSENT_REVOKED)
    with pytest.raises(InvalidGrantError) as exc:
        await exchange(store, policy, grants, code_params(issued))
    assert exc.value.description == "The authorization has been revoked"


async def test_an_exchange_naming_the_resource_binds_the_tokens_to_it(store, policy):
    issued = await issue_code(store, policy)
    response = await exchange(store, policy, store, code_params(issued, resource=API))
    access = store.tokens[tokens.digest(response.access_token)]
    assert (access.resource, access.user_id) == (API, "usr_alice")


def test_a_request_without_authentication_gets_no_error_code_rfc6750_3_1():
    error = BearerTokenError.missing()
    assert (error.code, error.description, error.status, str(error)) == (
        None,
        "An access token is required",
        401,
        "An access token is required",
    )


def test_insufficient_scope_names_the_scope_and_is_a_403():
    error = BearerTokenError.insufficient_scope("galleries:write")
    assert (str(error.code), error.description, error.status, error.scope) == (
        "insufficient_scope",
        "This request needs the galleries:write scope",
        403,
        "galleries:write",
    )


def test_a_bearer_invalid_request_is_a_400_with_its_code():
    error = BearerTokenError.invalid_request("Send the token in one place")
    assert (str(error.code), error.description, error.status) == (
        "invalid_request",
        "Send the token in one place",
        400,
    )


def test_oauth_errors_read_as_their_description():
    assert str(InvalidGrantError("Invalid authorization code")) == "Invalid authorization code"
    assert InvalidClientError("x").used_basic is False
