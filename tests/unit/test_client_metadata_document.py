"""piksend.oauth.client_metadata_document: the client_id URL's rules and the document's."""

from __future__ import annotations

import json

import pytest

from piksend.oauth.client_metadata_document import (
    DocumentRefused,
    client_from_document,
    names_a_document,
    url_problem,
)
from piksend.oauth.scopes import SCOPES
from piksend.oauth.types import Client, ClientType, RegisteredVia

URL = "https://assistant.example/oauth/client.json"


def _doc(**fields) -> bytes:
    return json.dumps(
        {"client_id": URL, "redirect_uris": ["http://127.0.0.1/cb"], **fields}
    ).encode()


def test_a_minimal_document_is_a_public_app_without_an_owner() -> None:
    assert client_from_document(URL, _doc()) == Client(
        client_id=URL,
        owner_id=None,
        name="assistant.example",
        secret_digest=None,
        redirect_uris=("http://127.0.0.1/cb",),
        scopes=tuple(SCOPES),
        client_type=ClientType.PUBLIC,
        registered_via=RegisteredVia.METADATA_DOCUMENT,
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://assistant.example/client.json", "the client_id URL must use https"),
        ("https://assistant.example", "the client_id URL must have a path"),
        ("https://assistant.example/", "the client_id URL must have a path"),
        ("https://assistant.example/a#b", "the client_id URL must not contain a fragment"),
        (
            "https://u:p@assistant.example/a",
            "the client_id URL must not contain a username or password",
        ),
        (
            "https://assistant.example/a/../b",
            "the client_id URL must not contain . or .. path segments",
        ),
        (
            "https://assistant.example/./b",
            "the client_id URL must not contain . or .. path segments",
        ),
        (
            "https://assistant.example/" + "a" * 200,
            "the client_id URL must be at most 200 characters",
        ),
    ],
)
def test_the_client_id_url_rules(url: str, problem: str) -> None:
    assert url_problem(url) == problem


def test_a_good_url_has_no_problem_and_http_only_under_the_development_setting() -> None:
    assert (url_problem(URL), url_problem("http://127.0.0.1:8080/c.json", allow_http=True)) == (
        None,
        None,
    )
    assert (names_a_document("http://127.0.0.1/c"), names_a_document("pks_ci_abc")) == (
        False,
        False,
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "the document is not JSON"),
        (b"[]", "the document is not a JSON object"),
        (
            _doc(client_id="https://other.example/c.json"),
            "the client_id in the document is not its URL",
        ),
        (_doc(redirect_uris=[]), "redirect_uris must be a non-empty array of URIs"),
        (
            _doc(token_endpoint_auth_method="private_key_jwt"),
            "token_endpoint_auth_method private_key_jwt is not supported",
        ),
        (
            _doc(token_endpoint_auth_method="client_secret_basic"),
            "token_endpoint_auth_method must be none",
        ),
        (_doc(logo_uri="http://cdn.example/l.png"), "logo_uri must be an https URL"),
        (_doc(pad="x" * 5200), "the document is larger than 5120 bytes"),
    ],
)
def test_a_document_breaking_a_rule_is_refused_with_its_reason(body: bytes, reason: str) -> None:
    with pytest.raises(DocumentRefused) as refused:
        client_from_document(URL, body)

    assert refused.value.reason == reason
