"""RFC 7636: S256 only, verifier grammar §4.1, challenge §4.2, verification §4.6."""

from __future__ import annotations

import pytest

from piksend.oauth import pkce
from piksend.oauth.errors import InvalidGrantError, InvalidRequestError

# RFC 7636 Appendix B
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_rfc_7636_appendix_b():
    assert pkce.s256(RFC_VERIFIER) == RFC_CHALLENGE


def test_rfc_verifier_verifies_against_its_challenge():
    pkce.verify(RFC_VERIFIER, RFC_CHALLENGE)


def test_wrong_verifier_is_invalid_grant_with_the_docs_message():
    with pytest.raises(InvalidGrantError) as exc:
        pkce.verify("x" * 43, RFC_CHALLENGE)
    assert exc.value.description == "Invalid code_verifier"


@pytest.mark.parametrize(
    "verifier",
    ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + "/", "a" * 42 + "=", "a" * 42 + " ", "é" * 43],
)
def test_verifier_outside_the_rfc_grammar_is_rejected(verifier):
    with pytest.raises(InvalidGrantError) as exc:
        pkce.verify(verifier, RFC_CHALLENGE)
    assert exc.value.description == "Invalid code_verifier"


@pytest.mark.parametrize("length", [43, 128])
def test_verifier_of_boundary_length_with_every_unreserved_character_is_accepted(length):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    verifier = (alphabet * 2)[:length]
    pkce.verify(verifier, pkce.s256(verifier))


def test_missing_verifier_is_invalid_request():
    with pytest.raises(InvalidRequestError):
        pkce.verify(None, RFC_CHALLENGE)


@pytest.mark.parametrize(
    ("challenge", "method", "message"),
    [
        (None, "S256", "code_challenge is required (PKCE)"),
        (RFC_CHALLENGE, None, "code_challenge_method is required and must be S256"),
        (RFC_CHALLENGE, "plain", "code_challenge_method must be S256"),
        (RFC_CHALLENGE, "s256", "code_challenge_method must be S256"),
        ("short", "S256", "code_challenge must be 43 characters of base64url (S256)"),
        (
            RFC_CHALLENGE[:-1] + "=",
            "S256",
            "code_challenge must be 43 characters of base64url (S256)",
        ),
    ],
)
def test_challenge_rules(challenge, method, message):
    with pytest.raises(InvalidRequestError) as exc:
        pkce.validate_challenge(challenge, method)
    assert exc.value.description == message
