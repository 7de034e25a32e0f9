"""Client authentication, RFC 6749 §2.3.1: client_secret_basic and client_secret_post."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import quote_plus

import pytest

from piksend.oauth import tokens
from piksend.oauth.client_auth import authenticate_client, parse_basic
from piksend.oauth.errors import InvalidClientError, InvalidRequestError
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
