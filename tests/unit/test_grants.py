"""Grant handlers: RFC 6749 §4.1.3 (code), §6 (refresh), §4.1.2 (replay), RFC 9700 §4.14.2 (reuse)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta

import pytest

from piksend.oauth import authorization, tokens
from piksend.oauth.bearer import authenticate_bearer, require_scope
from piksend.oauth.errors import (
    BearerTokenError,
    InvalidGrantError,
    InvalidRequestError,
    UnsupportedGrantTypeError,
)
from piksend.oauth.introspection import introspect
from piksend.oauth.pkce import s256
from piksend.oauth.revocation import revoke
from piksend.oauth.token_endpoint import handle_token_request
from piksend.oauth.types import PendingAuthorization, TokenKind
from tests.unit.conftest import NOW, SECRET

VERIFIER = "verifier-" + "v" * 40
REDIRECT = "https://app.example.com/cb"
API = "https://auth.example.com/api/v1"


async def issue_code(store, policy, scope=("profile:read", "galleries:read")) -> str:
    pending = PendingAuthorization(
        id="p",
        client_id="client-1",
        user_id="usr_alice",
        redirect_uri=REDIRECT,
        scope=scope,
        state=None,
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
        expires_at=NOW + timedelta(minutes=10),
    )
    url = await authorization.approve(pending, scope, grants=store, policy=policy, now=NOW)
    return url.split("code=")[1].split("&")[0]


def code_params(issued, /, **overrides):
    params = {
        "grant_type": "authorization_code",
        "code": issued,
        "redirect_uri": REDIRECT,
        "client_id": "client-1",
        "client_secret": SECRET,
        "code_verifier": VERIFIER,
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


async def token_request(store, policy, params, now=NOW):
    return await handle_token_request(
        params, None, clients=store, grants=store, policy=policy, now=now
    )


async def test_code_exchange_issues_both_tokens(store, policy):
    code = await issue_code(store, policy)
    response = await token_request(store, policy, code_params(code))
    assert response.scope == ("profile:read", "galleries:read")
    assert response.expires_in == 3600
    access = store.tokens[tokens.digest(response.access_token)]
    assert access.expires_at == NOW + timedelta(hours=1)


async def test_issued_tokens_carry_the_prefix_of_their_kind(store, policy):
    # README: recognisable prefixes, so a secret scanner can spot a leaked token.
    response = await token_request(store, policy, code_params(await issue_code(store, policy)))
    assert (response.access_token[:7], response.refresh_token[:7]) == ("pks_at_", "pks_rt_")
    assert store.tokens[tokens.digest(response.access_token)].kind == TokenKind.ACCESS
    assert store.tokens[tokens.digest(response.refresh_token)].kind == TokenKind.REFRESH


async def test_reused_code_is_rejected_and_revokes_tokens_already_issued(store, policy):
    code = await issue_code(store, policy)
    first = await token_request(store, policy, code_params(code))
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, code_params(code))
    assert exc.value.description == "Authorization code has already been used"
    assert store.tokens[tokens.digest(first.access_token)].revoked_at == NOW
    assert store.tokens[tokens.digest(first.refresh_token)].revoked_at == NOW


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"code_verifier": "w" * 43}, InvalidGrantError, "Invalid code_verifier"),
        ({"code_verifier": None}, InvalidRequestError, "code_verifier is required"),
        (
            {"redirect_uri": "https://app.example.com/other"},
            InvalidGrantError,
            "redirect_uri does not match the authorization request",
        ),
        ({"redirect_uri": None}, InvalidRequestError, "redirect_uri is required"),
        ({"code": "pks_ac_unknown"}, InvalidGrantError, "Invalid authorization code"),
        ({"code": None}, InvalidRequestError, "code is required"),
        (
            {"client_id": "client-2", "client_secret": SECRET + "-2"},
            InvalidGrantError,
            "Invalid authorization code",
        ),
    ],
)
async def test_code_exchange_errors(store, policy, overrides, error, message):
    code = await issue_code(store, policy)
    with pytest.raises(error) as exc:
        await token_request(store, policy, code_params(code, **overrides))
    assert exc.value.description == message


async def test_failed_verifier_does_not_burn_the_code(store, policy):
    code = await issue_code(store, policy)
    with pytest.raises(InvalidGrantError):
        await token_request(store, policy, code_params(code, code_verifier="w" * 43))
    assert (await token_request(store, policy, code_params(code))).access_token


async def test_expired_code_is_rejected(store, policy):
    code = await issue_code(store, policy)
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(
            store, policy, code_params(code), now=NOW + timedelta(seconds=policy.code_ttl)
        )
    assert exc.value.description == "Authorization code has expired"


async def test_unknown_grant_type_is_unsupported(store, policy):
    with pytest.raises(UnsupportedGrantTypeError) as exc:
        await token_request(
            store,
            policy,
            {"grant_type": "password", "client_id": "client-1", "client_secret": SECRET},
        )
    assert exc.value.description == "grant_type must be one of: authorization_code, refresh_token"


async def test_missing_grant_type_is_invalid_request(store, policy):
    # RFC 6749 §5.2: a missing required parameter is invalid_request.
    with pytest.raises(InvalidRequestError) as exc:
        await token_request(store, policy, {"client_id": "client-1", "client_secret": SECRET})
    assert exc.value.description == "grant_type is required"


async def test_the_token_endpoint_authenticates_the_client_by_http_basic(store, policy):
    # RFC 6749 §2.3.1: the client's credentials in the Authorization header, none in the body;
    # the secret's use is noted at the request's time.
    code = await issue_code(store, policy)
    params = code_params(code, client_id=None, client_secret=None)
    basic = "Basic " + base64.b64encode(f"client-1:{SECRET}".encode()).decode()

    response = await handle_token_request(
        params, basic, clients=store, grants=store, policy=policy, now=NOW
    )

    assert store.tokens[tokens.digest(response.access_token)].client_id == "client-1"
    assert store.secret_uses == [("client-1", tokens.digest(SECRET), NOW)]


def refresh_params(refresh_token, **overrides):
    params = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "client-1",
        "client_secret": SECRET,
    }
    params.update(overrides)
    return params


async def test_refresh_rotates_the_refresh_token(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    second = await token_request(store, policy, refresh_params(first.refresh_token))
    assert second.refresh_token != first.refresh_token
    assert store.tokens[tokens.digest(first.refresh_token)].rotated_at == NOW


async def test_rotated_refresh_token_presented_again_revokes_the_whole_family(store, policy):
    policy = replace(policy, refresh_grace_seconds=0)  # grace retries: test_refresh_grace.py
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    second = await token_request(store, policy, refresh_params(first.refresh_token))
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, refresh_params(first.refresh_token))
    assert (
        exc.value.description
        == "Refresh token has already been used; the authorization has been revoked"
    )
    for value in (first.access_token, second.access_token, second.refresh_token):
        assert store.tokens[tokens.digest(value)].revoked_at == NOW
    with pytest.raises(InvalidGrantError):
        await token_request(store, policy, refresh_params(second.refresh_token))


async def test_refresh_token_of_another_client_is_invalid(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(
            store,
            policy,
            refresh_params(first.refresh_token, client_id="client-2", client_secret=SECRET + "-2"),
        )
    assert exc.value.description == "Invalid refresh token"


async def test_access_token_is_not_a_refresh_token(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    with pytest.raises(InvalidGrantError):
        await token_request(store, policy, refresh_params(first.access_token))


async def test_expired_refresh_token_is_rejected(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    later = NOW + timedelta(seconds=policy.refresh_token_ttl)
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, refresh_params(first.refresh_token), now=later)
    assert exc.value.description == "Refresh token has expired"


async def test_revoked_consent_blocks_refresh(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    consent_id = store.tokens[tokens.digest(first.refresh_token)].consent_id
    await store.revoke_consent(consent_id, NOW)
    with pytest.raises(InvalidGrantError) as exc:
        await token_request(store, policy, refresh_params(first.refresh_token))
    assert exc.value.description == "Refresh token has been revoked"


async def test_revocation_by_another_client_changes_nothing(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    await revoke({"token": first.access_token}, store.clients["client-2"], grants=store, now=NOW)
    assert store.tokens[tokens.digest(first.access_token)].revoked_at is None


async def test_introspection_by_another_client_reads_inactive(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    body = await introspect(
        {"token": first.access_token},
        store.clients["client-2"],
        grants=store,
        users=store,
        issuer=policy.issuer,
        now=NOW,
    )
    assert body == {"active": False}


async def test_introspection_of_a_refresh_token(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    body = await introspect(
        {"token": first.refresh_token},
        store.clients["client-1"],
        grants=store,
        users=store,
        issuer=policy.issuer,
        now=NOW,
    )
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"


async def test_bearer_accepts_a_live_access_token_and_checks_scope(store, policy):
    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    record = await authenticate_bearer(
        f"Bearer {first.access_token}", grants=store, now=NOW, resource=API
    )
    require_scope(record, "galleries:read")
    with pytest.raises(BearerTokenError) as exc:
        require_scope(record, "stats:read")
    assert (exc.value.status, exc.value.scope) == (403, "stats:read")


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 401, None),
        ("Basic abc", 401, None),
        ("Bearer", 401, "invalid_token"),
        ("Bearer a b", 401, "invalid_token"),
        ("Bearer " + "x" * 600, 401, "invalid_token"),
        ("Bearer pks_at_unknown", 401, "invalid_token"),
    ],
)
async def test_bearer_rejections(store, header, status, code):
    with pytest.raises(BearerTokenError) as exc:
        await authenticate_bearer(header, grants=store, now=NOW, resource=API)
    assert exc.value.status == status
    assert (str(exc.value.code) if exc.value.code else None) == code


def test_missing_token_challenge_has_no_error_code():
    # RFC 6750 §3.1
    assert BearerTokenError.missing().challenge("piksend") == 'Bearer realm="piksend"'


async def test_refresh_narrows_to_the_scopes_the_app_is_registered_for_today(store, policy):
    from dataclasses import replace

    first = await token_request(store, policy, code_params(await issue_code(store, policy)))
    store.clients["client-1"] = replace(store.clients["client-1"], scopes=("galleries:read",))
    second = await token_request(store, policy, refresh_params(first.refresh_token))
    assert second.scope == ("galleries:read",)
    store.clients["client-1"] = replace(store.clients["client-1"], scopes=("stats:read",))
    from piksend.oauth.errors import InvalidScopeError

    with pytest.raises(InvalidScopeError) as exc:
        await token_request(store, policy, refresh_params(second.refresh_token))
    assert exc.value.description == "The app is no longer registered for any scope of this grant"
