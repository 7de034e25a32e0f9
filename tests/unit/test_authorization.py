"""Authorization requests, RFC 6749 §4.1.1 and §4.1.2.1: which errors redirect and which never do."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from piksend.oauth import authorization, tokens
from piksend.oauth.errors import (
    InvalidRequestError,
    InvalidScopeError,
    PendingAuthorizationGoneError,
    UnsafeAuthorizationRequestError,
)
from piksend.oauth.pkce import s256
from piksend.oauth.types import PendingAuthorization
from tests.support.memory_store import MemoryOAuthStore
from tests.unit.conftest import NOW

CHALLENGE = s256("v" * 43)
ISSUER = "https://auth.example.com"


def params(**overrides):
    base = {
        "client_id": "client-1",
        "redirect_uri": "https://app.example.com/cb",
        "response_type": "code",
        "scope": "profile:read galleries:read",
        "state": "xyz",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    base.update(overrides)
    return {k: [v] if isinstance(v, str) else v for k, v in base.items() if v is not None}


async def test_valid_request_is_accepted(store):
    request = await authorization.validate_request(params(), store, issuer=ISSUER)
    assert request.scope == ("profile:read", "galleries:read")
    assert request.state == "xyz"
    assert request.code_challenge == CHALLENGE


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": None}, "client_id is required"),
        ({"client_id": "nobody"}, "Unknown client_id"),
        ({"client_id": ["client-1", "client-1"]}, "client_id must not be given more than once"),
        ({"redirect_uri": None}, "redirect_uri does not match any registered URIs"),
        (
            {"redirect_uri": "https://app.example.com/cb/"},
            "redirect_uri does not match any registered URIs",
        ),
        (
            {"redirect_uri": "https://evil.example.com/cb"},
            "redirect_uri does not match any registered URIs",
        ),
        (
            {"redirect_uri": ["https://app.example.com/cb"] * 2},
            "redirect_uri must not be given more than once",
        ),
        ({"client_id": "client-2"}, "redirect_uri does not match any registered URIs"),
    ],
)
async def test_unsafe_errors_are_never_redirected(store, overrides, message):
    with pytest.raises(UnsafeAuthorizationRequestError) as exc:
        await authorization.validate_request(params(**overrides), store, issuer=ISSUER)
    assert exc.value.description == message


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"response_type": None}, "invalid_request", "response_type is required and must be code"),
        ({"response_type": "token"}, "unsupported_response_type", "response_type must be code"),
        ({"scope": None}, "invalid_scope", "scope is required"),
        ({"scope": "admin"}, "invalid_scope", "Unknown scope: admin"),
        (
            {"scope": "stats:read"},
            "invalid_scope",
            "Scope not registered for this application: stats:read",
        ),
        ({"code_challenge": None}, "invalid_request", "code_challenge is required (PKCE)"),
        (
            {"code_challenge_method": None},
            "invalid_request",
            "code_challenge_method is required and must be S256",
        ),
        (
            {"code_challenge_method": "plain"},
            "invalid_request",
            "code_challenge_method must be S256",
        ),
        ({"state": ["a", "b"]}, "invalid_request", "state must not be given more than once"),
        ({"state": "s" * 1025}, "invalid_request", "state must be at most 1024 characters"),
        (
            {"scope": ["profile:read", "galleries:read"]},
            "invalid_request",
            "scope must not be given more than once",
        ),
    ],
)
async def test_other_errors_redirect_to_the_verified_uri(store, overrides, code, message):
    with pytest.raises(authorization.RedirectableAuthorizationError) as exc:
        await authorization.validate_request(params(**overrides), store, issuer=ISSUER)
    assert str(exc.value.error.code) == code
    assert exc.value.error.description == message
    assert exc.value.redirect_uri == "https://app.example.com/cb"


async def test_error_redirect_carries_state_and_iss(store):
    with pytest.raises(authorization.RedirectableAuthorizationError) as exc:
        await authorization.validate_request(params(response_type="token"), store, issuer=ISSUER)
    url = authorization.error_redirect(exc.value, "https://auth.example.com")
    assert parse_qs(urlsplit(url).query) == {
        "error": ["unsupported_response_type"],
        "error_description": ["response_type must be code"],
        "state": ["xyz"],
        "iss": ["https://auth.example.com"],
    }


async def test_loopback_redirect_uri_may_use_any_port(store):
    request = await authorization.validate_request(
        params(redirect_uri="http://127.0.0.1:49152/cb"), store, issuer=ISSUER
    )
    assert request.redirect_uri == "http://127.0.0.1:49152/cb"


def test_redirect_keeps_the_registered_query_component():
    url = authorization.redirect_with("https://a.example/cb?x=1", {"code": "c", "state": None})
    assert url == "https://a.example/cb?x=1&code=c"


def pending(**overrides) -> PendingAuthorization:
    from datetime import timedelta

    values = dict(
        id="p1",
        client_id="client-1",
        user_id="usr_alice",
        redirect_uri="https://app.example.com/cb",
        scope=("profile:read", "galleries:read"),
        state="xyz",
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
        expires_at=NOW + timedelta(minutes=10),
    )
    values.update(overrides)
    return PendingAuthorization(**values)


async def test_approve_issues_a_code_for_the_narrowed_scope(store, policy):
    url = await authorization.approve(
        pending(), ("galleries:read",), grants=store, policy=policy, now=NOW
    )
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"code", "state", "iss"}
    (code,) = store.codes.values()
    assert code.scope == ("galleries:read",)
    assert code.expires_at == NOW + __import__("datetime").timedelta(seconds=policy.code_ttl)
    assert query["code"][0].startswith("pks_ac_")


async def test_approve_cannot_widen_the_request(store, policy):
    from piksend.oauth.errors import InvalidScopeError

    with pytest.raises(InvalidScopeError):
        await authorization.approve(
            pending(), ("galleries:write",), grants=store, policy=policy, now=NOW
        )


async def decide(
    store, policy, decision=authorization.Decision.APPROVE, pending_id="p1", **overrides
):
    values = dict(
        user_id="usr_alice",
        decision=decision,
        scope=("profile:read", "galleries:read"),
        pendings=store,
        clients=store,
        grants=store,
        policy=policy,
        now=NOW,
    )
    values.update(overrides)
    return await authorization.decide(pending_id, **values)


async def test_an_approved_decision_redirects_with_a_code_state_and_iss(store, policy):
    await store.save_pending(pending())
    url = await decide(store, policy)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://app.example.com/cb"
    assert set(query) == {"code", "state", "iss"}
    assert (query["state"], query["iss"]) == (["xyz"], ["https://auth.example.com"])
    (code,) = store.codes.values()
    assert code.digest == tokens.digest(query["code"][0])
    assert code.scope == ("profile:read", "galleries:read")
    assert store.pending == {}


async def test_a_denied_decision_redirects_with_access_denied_state_and_iss(store, policy):
    await store.save_pending(pending())
    url = await decide(store, policy, authorization.Decision.DENY)
    assert url == (
        "https://app.example.com/cb?error=access_denied"
        "&error_description=The+user+denied+the+request&state=xyz"
        "&iss=https%3A%2F%2Fauth.example.com"
    )
    assert (store.pending, store.consents, store.codes) == ({}, {}, {})


async def test_an_expired_pending_request_cannot_be_decided(store, policy):
    await store.save_pending(pending(expires_at=NOW))
    with pytest.raises(PendingAuthorizationGoneError) as exc:
        await decide(store, policy)
    assert exc.value.description == authorization.PENDING_GONE
    assert store.codes == {}


async def test_a_pending_request_cannot_be_decided_once_its_client_is_gone(store, policy):
    await store.save_pending(pending())
    del store.clients["client-1"]
    with pytest.raises(PendingAuthorizationGoneError) as exc:
        await decide(store, policy)
    assert exc.value.description == authorization.PENDING_GONE
    assert store.codes == {}


async def test_another_users_pending_request_cannot_be_decided(store, policy):
    await store.save_pending(pending())
    with pytest.raises(PendingAuthorizationGoneError):
        await decide(store, policy, user_id="usr_mallory")
    assert list(store.pending) == ["p1"]


async def test_a_redirect_uri_no_longer_registered_gets_nothing_and_ends_the_request(store, policy):
    await store.save_pending(pending(redirect_uri="https://old.example.com/cb"))
    with pytest.raises(UnsafeAuthorizationRequestError) as exc:
        await decide(store, policy, authorization.Decision.DENY)
    assert type(exc.value) is UnsafeAuthorizationRequestError
    assert exc.value.description == "redirect_uri does not match any registered URIs"
    assert (store.pending, store.codes) == ({}, {})


async def test_a_scope_no_longer_registered_is_not_granted(store, policy):
    await store.save_pending(pending(scope=("profile:read", "stats:read")))
    await decide(store, policy, scope=("profile:read", "stats:read"))
    (code,) = store.codes.values()
    assert code.scope == ("profile:read",)
    (consent,) = store.consents.values()
    assert consent["scope"] == ("profile:read",)


async def test_approving_only_scopes_no_longer_registered_asks_again_and_keeps_the_request(
    store, policy
):
    await store.save_pending(pending(scope=("profile:read", "stats:read")))
    with pytest.raises(authorization.NoScopeApprovedError) as exc:
        await decide(store, policy, scope=("stats:read",))
    assert (exc.value.pending, exc.value.client) == (
        pending(scope=("profile:read", "stats:read")),
        store.clients["client-1"],
    )
    assert list(store.pending) == ["p1"]
    assert store.codes == {}


async def test_approving_no_scope_asks_again_and_keeps_the_request(store, policy):
    await store.save_pending(pending())
    with pytest.raises(authorization.NoScopeApprovedError):
        await decide(store, policy, scope=())
    assert list(store.pending) == ["p1"]


async def test_a_decision_that_is_neither_approve_nor_deny_asks_again(store, policy):
    await store.save_pending(pending())
    with pytest.raises(InvalidRequestError) as exc:
        await decide(store, policy, decision=None)
    assert exc.value.description == "decision must be approve or deny"
    assert list(store.pending) == ["p1"]


async def test_the_consent_form_cannot_add_a_scope_that_was_not_requested(store, policy):
    await store.save_pending(pending(scope=("profile:read",)))
    await decide(store, policy, scope=("profile:read", "galleries:write"))
    (code,) = store.codes.values()
    assert code.scope == ("profile:read",)


async def test_a_pending_request_is_decided_only_once(store, policy):
    await store.save_pending(pending())
    await decide(store, policy)
    with pytest.raises(PendingAuthorizationGoneError):
        await decide(store, policy, authorization.Decision.DENY)
    assert len(store.codes) == 1


# Exact rules the mutation check found unpinned (RFC 9101 §6.3, RFC 6749 §3.1 and §3.3, the limits).


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        (
            {"request": "eyJhbGciOiJub25lIn0.e30."},
            "request_not_supported",
            "Request objects (the request parameter) are not supported",
        ),
        (
            {"request_uri": "urn:ietf:params:oauth:request_uri:x"},
            "request_uri_not_supported",
            "The request_uri parameter is not supported",
        ),
        ({"response_mode": "fragment"}, "invalid_request", "response_mode must be query"),
        ({"scope": " "}, "invalid_scope", "scope is required"),
        ({"nonce": "n" * 2049}, "invalid_request", "nonce is too long"),
        # RFC 6749 §3.1: a parameter sent without a value is omitted, so response_type= is a
        # missing response_type, not an unsupported one.
        (
            {"response_type": ""},
            "invalid_request",
            "response_type is required and must be code",
        ),
    ],
)
async def test_refusals_after_the_redirect_is_verified_say_which_rule(
    store, overrides, code, message
):
    with pytest.raises(authorization.RedirectableAuthorizationError) as exc:
        await authorization.validate_request(params(**overrides), store, issuer=ISSUER)
    assert (str(exc.value.error.code), exc.value.error.description) == (code, message)


async def test_the_limits_themselves_are_accepted_and_empty_request_parameters_are_omitted(store):
    request = await authorization.validate_request(
        params(
            state="s" * 1024,
            nonce="n" * 2048,
            response_mode="query",
            request="",
            request_uri="",
        ),
        store,
        issuer=ISSUER,
    )
    assert request.state == "s" * 1024


async def test_an_empty_state_is_no_state(store):
    request = await authorization.validate_request(params(state=""), store, issuer=ISSUER)
    assert request.state is None


async def test_a_client_id_over_200_characters_is_never_looked_up(store):
    store.clients["c" * 201] = replace(store.clients["client-1"], client_id="c" * 201)
    store.clients["c" * 200] = replace(store.clients["client-1"], client_id="c" * 200)
    request = await authorization.validate_request(
        params(client_id="c" * 200), store, issuer=ISSUER
    )
    assert request.client.client_id == "c" * 200
    with pytest.raises(UnsafeAuthorizationRequestError) as exc:
        await authorization.validate_request(params(client_id="c" * 201), store, issuer=ISSUER)
    assert exc.value.description == "Unknown client_id"


async def test_a_pending_request_copies_the_validated_request_and_lives_its_ttl(store):
    request = await authorization.validate_request(params(), store, issuer=ISSUER)
    one = authorization.new_pending(request, user_id="usr_alice", now=NOW, ttl=600)
    other = authorization.new_pending(request, user_id="usr_alice", now=NOW, ttl=600)
    assert replace(one, id="p") == PendingAuthorization(
        id="p",
        client_id="client-1",
        user_id="usr_alice",
        redirect_uri="https://app.example.com/cb",
        scope=("profile:read", "galleries:read"),
        state="xyz",
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
        expires_at=NOW + timedelta(seconds=600),
        resource=request.resource,
    )
    assert len(one.id) == 32 and one.id != other.id  # 24 random bytes, base64url


def a_pending(**overrides) -> PendingAuthorization:
    base = PendingAuthorization(
        id="p",
        client_id="client-1",
        user_id="usr_alice",
        redirect_uri="https://app.example.com/cb",
        scope=("profile:read", "galleries:read"),
        state="xyz",
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
        expires_at=NOW + timedelta(minutes=10),
    )
    return replace(base, **overrides)


@pytest.mark.parametrize("granted", [(), ("galleries:write",)])
async def test_an_approval_outside_the_request_is_refused_saying_so(store, policy, granted):
    with pytest.raises(InvalidScopeError) as exc:
        await authorization.approve(a_pending(), granted, grants=store, policy=policy, now=NOW)
    assert exc.value.description == "The approved scopes must be a non-empty subset of the request"


async def test_an_approval_records_the_consent_and_a_code_of_the_user_for_the_client(store, policy):
    url = await authorization.approve(
        a_pending(), ("profile:read",), grants=store, policy=policy, now=NOW
    )
    code = parse_qs(urlsplit(url).query)["code"][0]
    (consent,) = store.consents.values()
    assert (consent["user_id"], consent["client_id"], consent["scope"]) == (
        "usr_alice",
        "client-1",
        ("profile:read",),
    )
    record = store.codes[tokens.digest(code)]
    assert (record.user_id, record.client_id, record.code_challenge_method) == (
        "usr_alice",
        "client-1",
        "S256",
    )


async def test_a_pending_request_at_its_expiry_instant_is_gone(store, policy):
    await store.save_pending(a_pending(expires_at=NOW))
    with pytest.raises(PendingAuthorizationGoneError) as exc:
        await decide(store, policy, authorization.Decision.APPROVE, "p", scope=["profile:read"])
    assert exc.value.description == authorization.PENDING_GONE


async def test_approving_no_registered_scope_asks_again_saying_so(store, policy):
    await store.save_pending(a_pending())
    with pytest.raises(authorization.NoScopeApprovedError) as exc:
        await decide(store, policy, authorization.Decision.APPROVE, "p", scope=["stats:read"])
    assert exc.value.description == (
        "Approve at least one scope that was requested and is still registered"
    )


def test_a_redirectable_error_reads_as_the_description_of_its_oauth_error():
    error = InvalidRequestError("state must not be given more than once")
    redirectable = authorization.RedirectableAuthorizationError(error, "https://a.example/cb", "s")
    assert (str(redirectable), redirectable.error, redirectable.state) == (
        "state must not be given more than once",
        error,
        "s",
    )


class _SavedAt(MemoryOAuthStore):
    """The memory store, remembering the moment each code was saved at (the SQL store writes
    it as the code row's created_at)."""

    def __init__(self) -> None:
        super().__init__()
        self.saved_at: list[object] = []

    async def save_code(self, code, now) -> None:
        self.saved_at.append(now)
        await super().save_code(code, now)


async def test_an_approval_saves_its_code_as_created_at_the_approval(policy):
    grants = _SavedAt()
    await authorization.approve(
        a_pending(), ("profile:read",), grants=grants, policy=policy, now=NOW
    )
    assert grants.saved_at == [NOW]


async def test_a_pending_request_at_its_expiry_instant_is_gone_before_anything_else_is_asked(
    store, policy
):
    # Gone at its expiry instant: the user is not asked again about a missing decision.
    await store.save_pending(a_pending(expires_at=NOW))
    with pytest.raises(PendingAuthorizationGoneError) as exc:
        await decide(store, policy, None, "p", scope=["profile:read"])
    assert exc.value.description == authorization.PENDING_GONE
    assert store.codes == {}


class _DecidedElsewhere(MemoryOAuthStore):
    """A pending request that another tab takes first: found, but gone when taken."""

    async def take_pending(self, pending_id, user_id, now):
        await super().take_pending(pending_id, user_id, now)
        return None


@pytest.mark.parametrize("decision", list(authorization.Decision))
async def test_a_pending_request_taken_by_another_decision_meanwhile_is_gone(
    store, policy, decision
):
    pendings = _DecidedElsewhere()
    pendings.clients = dict(store.clients)
    await pendings.save_pending(a_pending())
    with pytest.raises(PendingAuthorizationGoneError) as exc:
        await decide(pendings, policy, decision, "p", scope=["profile:read"])
    assert exc.value.description == authorization.PENDING_GONE
    assert (pendings.codes, pendings.consents) == ({}, {})
