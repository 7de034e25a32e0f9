"""Client authentication, RFC 6749 §2.3.1: client_secret_basic and client_secret_post; §2.1 and
§3.2.1: public clients by client_id alone; RFC 7662 §2.1: introspection for authenticated ones."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote_plus

import pytest

from piksend.oauth import tokens
from piksend.oauth.client_auth import SECRET_USE_RESOLUTION, authenticate_client, parse_basic
from piksend.oauth.errors import InvalidClientError, InvalidRequestError
from piksend.oauth.types import Client, ClientType
from tests.unit.conftest import NOW, SECRET


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


async def test_post_credentials_authenticate(store):
    client = await authenticate_client(
        {"client_id": "client-1", "client_secret": SECRET}, None, store, NOW
    )
    assert client.client_id == "client-1"


async def test_basic_credentials_authenticate(store):
    client = await authenticate_client({}, basic("client-1", SECRET), store, NOW)
    assert client.client_id == "client-1"


def test_basic_parts_are_form_url_decoded():
    assert parse_basic(basic("a b:c", "s&t+u")) == ("a b:c", "s&t+u")


@pytest.mark.parametrize(
    ("params", "header"),
    [
        ({"client_id": "client-1", "client_secret": "wrong"}, None),
        ({"client_id": "nobody", "client_secret": SECRET}, None),
        ({}, "basic-wrong"),
    ],
)
async def test_wrong_credentials_give_the_docs_message(store, params, header):
    if header == "basic-wrong":
        header = basic("client-1", "wrong")
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client(params, header, store, NOW)
    assert exc.value.description == "Invalid client_id or client_secret"
    assert exc.value.status == 401
    assert exc.value.used_basic is (header is not None)


async def test_missing_credentials_are_invalid_client(store):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({"client_id": "client-1"}, None, store, NOW)
    assert (
        exc.value.description == "Client authentication required: send client_id and client_secret"
    )


async def test_two_authentication_methods_at_once_are_refused(store):
    with pytest.raises(InvalidRequestError) as exc:
        await authenticate_client({"client_secret": SECRET}, basic("client-1", SECRET), store, NOW)
    assert exc.value.description == (
        "Use only one client authentication method (HTTP Basic or client_secret)"
    )


async def test_body_client_id_must_agree_with_basic(store):
    with pytest.raises(InvalidClientError):
        await authenticate_client({"client_id": "client-2"}, basic("client-1", SECRET), store, NOW)


@pytest.mark.parametrize(
    "header", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode()]
)
async def test_malformed_basic_header_is_invalid_client(store, header):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({}, header, store, NOW)
    assert exc.value.used_basic is True


async def test_previous_secret_works_only_within_its_grace_period(store):
    from dataclasses import replace

    store.clients["client-1"] = replace(
        store.clients["client-1"],
        secret_digest=tokens.digest("new-secret"),
        previous_secret_digest=tokens.digest(SECRET),
        previous_secret_expires_at=NOW + timedelta(minutes=5),
    )
    params = {"client_id": "client-1", "client_secret": SECRET}
    assert (await authenticate_client(params, None, store, NOW)).client_id == "client-1"
    with pytest.raises(InvalidClientError):
        await authenticate_client(params, None, store, NOW + timedelta(minutes=5))


def _public(store) -> None:
    store.clients["spa-1"] = Client(
        client_id="spa-1",
        owner_id="usr_owner",
        name="Browser app",
        secret_digest=None,
        redirect_uris=("https://spa.example.com/callback",),
        scopes=("profile:read",),
        client_type=ClientType.PUBLIC,
    )


async def test_a_public_client_is_identified_by_client_id_in_the_body_alone(store):
    _public(store)
    client = await authenticate_client({"client_id": "spa-1"}, None, store, NOW)
    assert (client.client_id, client.token_endpoint_auth_method) == ("spa-1", "none")


@pytest.mark.parametrize(
    ("params", "header", "used_basic"),
    [
        ({"client_id": "spa-1", "client_secret": "anything"}, None, False),
        ({}, "basic-spa", True),
        ({"client_id": "spa-1"}, "basic-spa", True),
    ],
)
async def test_a_secret_sent_for_a_public_client_is_refused(store, params, header, used_basic):
    _public(store)
    authorization = basic("spa-1", "anything") if header else None
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client(params, authorization, store, NOW)
    assert (exc.value.status, exc.value.used_basic, exc.value.description) == (
        401,
        used_basic,
        "This client is public and has no client_secret: send client_id alone, without a "
        "secret or HTTP Basic credentials",
    )


async def test_a_public_client_is_refused_where_only_authenticated_clients_may_call(store):
    _public(store)
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({"client_id": "spa-1"}, None, store, NOW, public_allowed=False)
    assert (exc.value.status, exc.value.description) == (
        401,
        "Token introspection requires an authenticated client; a public client cannot use it",
    )


async def test_a_confidential_client_without_its_secret_is_refused_even_where_public_ones_may_call(
    store,
):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({"client_id": "client-1"}, None, store, NOW)
    assert (exc.value.status, exc.value.description) == (
        401,
        "Client authentication required: send client_id and client_secret",
    )


async def test_an_unknown_client_id_without_a_secret_is_invalid_credentials(store):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({"client_id": "nobody"}, None, store, NOW)
    assert exc.value.description == "Invalid client_id or client_secret"


async def test_no_client_id_at_all_asks_for_client_authentication(store):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({"grant_type": "refresh_token"}, None, store, NOW)
    assert exc.value.description == (
        "Client authentication required: send client_id and client_secret"
    )


# Exact refusals (the mutation check's killers: each pins a branch no other test tells apart).


@pytest.mark.parametrize(
    "header",
    [
        "Basic Y2xpZW50LTE6c2Vj!cmV0",  # a character outside base64: refused, not skipped
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),  # not UTF-8
        "Basic " + base64.b64encode(b"no-colon-at-all").decode(),
    ],
)
def test_malformed_basic_credentials_are_refused_saying_so(header):
    with pytest.raises(InvalidClientError) as exc:
        parse_basic(header)
    assert (exc.value.description, exc.value.used_basic) == (
        "Malformed HTTP Basic credentials",
        True,
    )


def test_the_basic_scheme_is_split_at_the_first_space_and_the_secret_at_the_first_colon():
    raw = base64.b64encode(b"client-1:s:e:c").decode()
    assert parse_basic("Basic  " + raw) == ("client-1", "s:e:c")


async def test_an_unknown_client_over_basic_is_refused_with_the_basic_flag(store):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({}, basic("nobody", SECRET), store, NOW)
    assert (exc.value.description, exc.value.used_basic) == (
        "Invalid client_id or client_secret",
        True,
    )


async def test_a_wrong_secret_in_the_body_is_refused_without_the_basic_flag(store):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client(
            {"client_id": "client-1", "client_secret": "wrong"}, None, store, NOW
        )
    assert (exc.value.description, exc.value.used_basic) == (
        "Invalid client_id or client_secret",
        False,
    )


async def test_a_basic_client_id_differing_from_the_body_is_refused_with_the_basic_flag(store):
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client({"client_id": "client-2"}, basic("client-1", SECRET), store, NOW)
    assert (exc.value.description, exc.value.used_basic) == (
        "Invalid client_id or client_secret",
        True,
    )


async def test_a_client_id_of_200_characters_is_looked_up_and_of_201_is_not(store):
    for length in (200, 201):
        client_id = "c" * length
        store.clients[client_id] = replace(store.clients["client-1"], client_id=client_id)
    found = await authenticate_client(
        {"client_id": "c" * 200, "client_secret": SECRET}, None, store, NOW
    )
    assert found.client_id == "c" * 200
    with pytest.raises(InvalidClientError) as exc:
        await authenticate_client(
            {"client_id": "c" * 201, "client_secret": SECRET}, None, store, NOW
        )
    assert exc.value.description == "Invalid client_id or client_secret"


async def test_a_previous_secret_without_an_expiry_is_not_accepted(store):
    store.clients["client-1"] = replace(
        store.clients["client-1"],
        previous_secret_digest=tokens.digest("old-secret"),
        previous_secret_expires_at=None,
    )
    with pytest.raises(InvalidClientError):
        await authenticate_client(
            {"client_id": "client-1", "client_secret": "old-secret"}, None, store, NOW
        )


# A secret's last use (a product rule, no RFC's): noted to the store only when the use the
# client row carries is at least SECRET_USE_RESOLUTION old, for the secret that matched.


async def authenticate_with(store, secret: str, now=NOW):
    return await authenticate_client(
        {"client_id": "client-1", "client_secret": secret}, None, store, now
    )


async def test_the_first_use_of_a_secret_is_noted_with_its_digest_and_the_moment(store):
    await authenticate_with(store, SECRET)
    assert store.secret_uses == [("client-1", tokens.digest(SECRET), NOW)]
    assert store.clients["client-1"].secret_used_at == NOW


@pytest.mark.parametrize(
    ("age", "noted"),
    [
        (SECRET_USE_RESOLUTION, True),
        (SECRET_USE_RESOLUTION + timedelta(seconds=1), True),
        (SECRET_USE_RESOLUTION - timedelta(seconds=1), False),
        (timedelta(0), False),
    ],
)
async def test_a_use_is_noted_again_only_once_the_last_is_an_hour_old(store, age, noted):
    store.clients["client-1"] = replace(store.clients["client-1"], secret_used_at=NOW - age)
    await authenticate_with(store, SECRET)
    assert store.secret_uses == ([("client-1", tokens.digest(SECRET), NOW)] if noted else [])


def _rotated(store, *, used_at=None, previous_used_at=None) -> None:
    """client-1 with a new secret, its old one (SECRET) still in its grace period."""
    store.clients["client-1"] = replace(
        store.clients["client-1"],
        secret_digest=tokens.digest("new-secret"),
        secret_used_at=used_at,
        previous_secret_digest=tokens.digest(SECRET),
        previous_secret_expires_at=NOW + timedelta(days=1),
        previous_secret_used_at=previous_used_at,
    )


async def test_the_current_secret_is_judged_by_its_own_last_use_not_the_previous_ones(store):
    _rotated(store, used_at=NOW - timedelta(minutes=5), previous_used_at=None)
    await authenticate_with(store, "new-secret")
    assert store.secret_uses == []
    _rotated(store, used_at=None, previous_used_at=NOW - timedelta(minutes=5))
    await authenticate_with(store, "new-secret")
    assert store.secret_uses == [("client-1", tokens.digest("new-secret"), NOW)]


async def test_the_previous_secret_is_judged_by_its_own_last_use_not_the_current_ones(store):
    _rotated(store, used_at=None, previous_used_at=NOW - timedelta(minutes=5))
    await authenticate_with(store, SECRET)
    assert store.secret_uses == []
    _rotated(store, used_at=NOW - timedelta(minutes=5), previous_used_at=None)
    await authenticate_with(store, SECRET)
    assert store.secret_uses == [("client-1", tokens.digest(SECRET), NOW)]
    assert store.clients["client-1"].previous_secret_used_at == NOW


async def test_a_recently_used_secret_without_a_previous_one_is_not_noted_again(store):
    # The current secret's match must not read as the previous secret's (whose last use,
    # never having been, would always be stale).
    store.clients["client-1"] = replace(
        store.clients["client-1"], secret_used_at=NOW - timedelta(minutes=1)
    )
    await authenticate_with(store, SECRET)
    assert store.secret_uses == []
