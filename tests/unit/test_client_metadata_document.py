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
        ("https://[::1/x", "the client_id is not a valid URL"),
        ("https:///x", "the client_id URL must include a host"),
        (
            "https://u@assistant.example/a",
            "the client_id URL must not contain a username or password",
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
        (_doc(client_name=" "), "client_name must be a non-empty string"),
        (_doc(client_name=3), "client_name must be a non-empty string"),
        (_doc(client_name="x" * 101), "client_name must be at most 100 printable characters"),
        (_doc(client_name="a\x7fb"), "client_name must be at most 100 printable characters"),
        (_doc(client_name="a\x01b"), "client_name must be at most 100 printable characters"),
        (
            _doc(redirect_uris=[f"http://127.0.0.1/{i}" for i in range(11)]),
            "at most 10 redirect_uris",
        ),
        (
            _doc(redirect_uris=["http://127.0.0.1/cb#f"]),
            "Redirect URI must not contain a fragment: http://127.0.0.1/cb#f",
        ),
        (_doc(scope=3), "scope must be a string"),
        (_doc(scope=" "), "scope must name at least one scope"),
        (_doc(scope="admin"), "Unknown scope: admin"),
        (_doc(client_uri="http://app.example"), "client_uri must be an https URL"),
        (_doc(client_uri=3), "client_uri must be an https URL"),
        (_doc(client_uri="https://app.example/" + "a" * 1981), "client_uri must be an https URL"),
    ],
)
def test_a_document_breaking_a_rule_is_refused_with_its_reason(body: bytes, reason: str) -> None:
    with pytest.raises(DocumentRefused) as refused:
        client_from_document(URL, body)

    assert (refused.value.reason, str(refused.value)) == (reason, reason)


def test_the_limits_themselves_are_accepted() -> None:
    longest_url = "https://a.example/" + "a" * 182  # MAX_URL_LENGTH, 200 characters
    assert url_problem(longest_url) is None
    body = _doc(
        client_name="x" * 100,
        redirect_uris=[f"http://127.0.0.1/{i}" for i in range(10)],
        client_uri="https://app.example/" + "a" * 1980,  # 2000 characters
        scope="profile:read galleries:read",
        token_endpoint_auth_method="none",
    )
    client = client_from_document(URL, body)
    assert (client.name, len(client.redirect_uris), client.website_url, client.scopes) == (
        "x" * 100,
        10,
        "https://app.example/" + "a" * 1980,
        ("profile:read", "galleries:read"),
    )
    padded = _doc(pad="")
    exactly = _doc(pad="x" * (5120 - len(padded)))
    assert client_from_document(URL, exactly).client_id == URL


def test_https_client_ids_name_documents_and_http_ones_only_in_development() -> None:
    assert (
        names_a_document(URL),
        names_a_document("http://127.0.0.1/c", allow_http=True),
        names_a_document("HTTPS://assistant.example/c"),
    ) == (True, True, False)


def test_a_document_may_name_a_private_use_scheme_redirect_its_app_being_public() -> None:
    # RFC 8252 §7.1: a native app's reverse-domain scheme, allowed for public clients only;
    # a metadata document's app is always public (draft-ietf-oauth-client-id-metadata-document).
    client = client_from_document(URL, _doc(redirect_uris=["com.example.app:/callback"]))
    assert (client.redirect_uris, client.client_type) == (
        ("com.example.app:/callback",),
        ClientType.PUBLIC,
    )
