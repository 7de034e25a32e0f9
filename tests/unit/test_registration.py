"""piksend.oauth.registration: RFC 7591 §2 metadata rules, §3.2.2 errors, the operator policy."""

from __future__ import annotations

import pytest

from piksend.oauth.errors import InvalidClientMetadataError, InvalidRedirectUriError
from piksend.oauth.registration import (
    ClientMetadata,
    RegistrationPolicy,
    on_this_device,
    validate_metadata,
)
from piksend.oauth.scopes import SCOPES
from piksend.oauth.types import ClientType

PUBLIC = {"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"}
POLICY = RegistrationPolicy.PUBLIC
OPEN = RegistrationPolicy.OPEN


def test_a_minimal_public_registration_gets_the_defaults() -> None:
    assert validate_metadata(PUBLIC, POLICY) == ClientMetadata(
        client_name="Unnamed app",
        redirect_uris=("http://127.0.0.1/cb",),
        token_endpoint_auth_method="none",
        scope=tuple(SCOPES),
        grant_types=("authorization_code", "refresh_token"),
    )


def test_the_auth_method_defaults_to_client_secret_basic_which_public_refuses() -> None:
    with pytest.raises(InvalidClientMetadataError) as refused:
        validate_metadata({"redirect_uris": ["http://127.0.0.1/cb"]}, POLICY)

    assert refused.value.description == (
        "This server registers only public clients: token_endpoint_auth_method must be none"
    )


def test_open_registers_a_confidential_app_with_an_https_redirect() -> None:
    body = {"redirect_uris": ["https://app.example/cb"], "client_name": "Web App"}

    metadata = validate_metadata(body, OPEN)

    assert (metadata.client_type, metadata.token_endpoint_auth_method) == (
        ClientType.CONFIDENTIAL,
        "client_secret_basic",
    )


def test_a_confidential_app_cannot_register_a_private_use_scheme_even_when_open() -> None:
    body = {
        "redirect_uris": ["com.example.app:/cb"],
        "token_endpoint_auth_method": "client_secret_post",
    }

    with pytest.raises(InvalidRedirectUriError):
        validate_metadata(body, OPEN)


@pytest.mark.parametrize(
    ("uri", "on_device"),
    [
        ("http://127.0.0.1:5000/cb", True),
        ("http://[::1]/cb", True),
        ("http://localhost:8080/cb", True),
        ("com.example.app:/oauth", True),
        ("https://app.example/cb", False),
    ],
)
def test_only_loopback_and_private_use_redirects_stay_on_the_device(
    uri: str, on_device: bool
) -> None:
    assert on_this_device(uri) is on_device


@pytest.mark.parametrize(
    ("change", "description"),
    [
        (
            {"redirect_uris": "http://127.0.0.1/cb"},
            "redirect_uris must be a non-empty array of URIs",
        ),
        ({"redirect_uris": [1]}, "redirect_uris must be an array of strings"),
        ({"client_name": 7}, "client_name must be a string"),
        ({"client_name": "x" * 101}, "client_name must be at most 100 characters"),
        ({"logo_uri": "http://cdn.example/logo.png"}, "logo_uri must be an https URL"),
        ({"response_types": ["token"]}, 'response_types must be ["code"]'),
        ({"grant_types": ["refresh_token"]}, "grant_types must include authorization_code"),
        ({"scope": ""}, "scope must name at least one scope"),
        (
            {"token_endpoint_auth_method": "private_key_jwt"},
            "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post",
        ),
        (
            {"redirect_uris": ["https://app.example.com/cb"]},
            "This server registers only apps whose redirect URIs are loopback (http://127.0.0.1, "
            "http://[::1], http://localhost) or private-use schemes: https://app.example.com/cb",
        ),
        (
            {"redirect_uris": ["http://127.0.0.1/cb#f"]},
            "Redirect URI must not contain a fragment: http://127.0.0.1/cb#f",
        ),
        (
            {"redirect_uris": [f"http://127.0.0.1/{i}" for i in range(11)]},
            "At most 10 redirect_uris",
        ),
        ({"client_name": "a\x7fb"}, "client_name must not contain control characters"),
        ({"client_name": "a\x01b"}, "client_name must not contain control characters"),
        ({"grant_types": "authorization_code"}, "grant_types must be an array of strings"),
        ({"grant_types": ["authorization_code", 3]}, "grant_types must be an array of strings"),
        ({"response_types": "code"}, "response_types must be an array of strings"),
        ({"response_types": [1]}, "response_types must be an array of strings"),
        (
            {"grant_types": ["authorization_code", "password", "implicit"]},
            "Unsupported grant type: password",
        ),
        ({"scope": "admin"}, "Unknown scope: admin"),
        ({"client_uri": "https://"}, "client_uri must be an https URL"),
        ({"client_uri": "https://u@app.example.com"}, "client_uri must be an https URL"),
        ({"client_uri": "https://app.example.com/a b"}, "client_uri must be an https URL"),
        (
            {"client_uri": "https://app.example.com/" + "a" * 1977},
            "client_uri must be an https URL",
        ),
        ({"client_uri": "https://[::1"}, "client_uri must be an https URL"),
        ({"client_uri": "http://app.example.com"}, "client_uri must be an https URL"),
    ],
)
def test_invalid_metadata_is_named(change: dict, description: str) -> None:
    with pytest.raises((InvalidClientMetadataError, InvalidRedirectUriError)) as refused:
        validate_metadata({**PUBLIC, **change}, POLICY)

    assert refused.value.description == description


def test_metadata_it_does_not_understand_is_ignored() -> None:
    body = {**PUBLIC, "software_id": "abc", "contacts": ["a@example.com"]}

    assert validate_metadata(body, POLICY) == validate_metadata(PUBLIC, POLICY)


def test_the_response_repeats_every_registered_value_rfc7591_3_2_1() -> None:
    metadata = ClientMetadata(
        client_name="Photo app",
        redirect_uris=("https://app.example.com/cb", "http://127.0.0.1/cb"),
        token_endpoint_auth_method="client_secret_post",
        scope=("profile:read", "galleries:read"),
        grant_types=("authorization_code",),
        client_uri="https://app.example.com",
        logo_uri="https://app.example.com/logo.png",
    )
    assert metadata.to_dict() == {
        "client_name": "Photo app",
        "redirect_uris": ["https://app.example.com/cb", "http://127.0.0.1/cb"],
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "scope": "profile:read galleries:read",
        "client_uri": "https://app.example.com",
        "logo_uri": "https://app.example.com/logo.png",
    }


def test_the_response_leaves_out_the_uris_not_registered() -> None:
    body = validate_metadata(PUBLIC, POLICY).to_dict()
    assert ("client_uri" in body, "logo_uri" in body) == (False, False)


def test_a_public_app_on_the_device_keeps_its_https_uris_at_their_longest() -> None:
    longest = "https://app.example.com/" + "a" * 1976  # MAX_URL, 2000 characters
    body = {
        **PUBLIC,
        "redirect_uris": ["com.example.app:/cb", "http://127.0.0.1/cb"],
        "client_uri": longest,
        "logo_uri": "",
        "client_name": "x" * 100,
    }
    metadata = validate_metadata(body, POLICY)
    assert (metadata.client_uri, metadata.logo_uri, metadata.client_type) == (
        longest,
        None,
        ClientType.PUBLIC,
    )
    assert metadata.redirect_uris == ("com.example.app:/cb", "http://127.0.0.1/cb")
    assert metadata.client_name == "x" * 100


def test_ten_redirect_uris_are_the_most_a_registration_may_have() -> None:
    # The server's limit (RFC 7591 §2 leaves it to the server): ten are allowed, eleven refused
    # (test_invalid_metadata_is_named), all kept in the order given.
    uris = [f"http://127.0.0.1/{i}" for i in range(10)]

    metadata = validate_metadata({**PUBLIC, "redirect_uris": uris}, POLICY)

    assert metadata.redirect_uris == tuple(uris)
