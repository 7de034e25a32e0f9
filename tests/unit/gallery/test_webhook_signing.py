"""Tests for piksend.gallery.webhook_signing."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from piksend.gallery.webhook_signing import generate_secret, sign, signature_header, verify

SECRET = "whsec_test_secret"
TIMESTAMP = 1_700_000_000
BODY = b'{"event":"photo.created","id":"ph_123"}'
# Computed outside Python with:
#   printf '1700000000.{"event":"photo.created","id":"ph_123"}' \
#     | openssl dgst -sha256 -hmac 'whsec_test_secret'
KNOWN_SIGNATURE = "b89857e509b23d8764d07389f9e5c520bbee0920853894a47c71bd042c56192c"


def test_sign_matches_known_vector() -> None:
    independent = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()

    assert independent == KNOWN_SIGNATURE
    assert sign(SECRET, TIMESTAMP, BODY) == KNOWN_SIGNATURE


def test_signature_header_format() -> None:
    assert signature_header(SECRET, TIMESTAMP, BODY) == f"t=1700000000,v1={KNOWN_SIGNATURE}"


def test_verify_accepts_valid_header() -> None:
    header = signature_header(SECRET, TIMESTAMP, BODY)

    assert verify(SECRET, header, BODY, now=TIMESTAMP)
    assert verify(SECRET, header, BODY, now=TIMESTAMP + 300)
    assert verify(SECRET, header, BODY, now=TIMESTAMP - 300)


def test_verify_rejects_tampered_body() -> None:
    header = signature_header(SECRET, TIMESTAMP, BODY)

    assert not verify(SECRET, header, BODY.replace(b"ph_123", b"ph_124"), now=TIMESTAMP)
    assert not verify(SECRET, header, BODY + b" ", now=TIMESTAMP)


def test_verify_rejects_wrong_secret() -> None:
    header = signature_header(SECRET, TIMESTAMP, BODY)

    assert not verify("whsec_other", header, BODY, now=TIMESTAMP)


def test_verify_rejects_changed_timestamp() -> None:
    forged = f"t={TIMESTAMP + 1},v1={KNOWN_SIGNATURE}"

    assert not verify(SECRET, forged, BODY, now=TIMESTAMP)


@pytest.mark.parametrize("now", [TIMESTAMP + 301, TIMESTAMP - 301, TIMESTAMP + 86_400])
def test_verify_rejects_stale_or_future_timestamp(now: int) -> None:
    header = signature_header(SECRET, TIMESTAMP, BODY)

    assert not verify(SECRET, header, BODY, now=now)


def test_verify_custom_tolerance() -> None:
    header = signature_header(SECRET, TIMESTAMP, BODY)

    assert verify(SECRET, header, BODY, now=TIMESTAMP + 10, tolerance=10)
    assert not verify(SECRET, header, BODY, now=TIMESTAMP + 11, tolerance=10)
    with pytest.raises(ValueError):
        verify(SECRET, header, BODY, now=TIMESTAMP, tolerance=-1)


def test_verify_accepts_any_matching_v1_for_rotation() -> None:
    old = sign("whsec_old", TIMESTAMP, BODY)
    header = f"t={TIMESTAMP},v1={old},v1={KNOWN_SIGNATURE}"

    assert verify(SECRET, header, BODY, now=TIMESTAMP)
    assert verify("whsec_old", header, BODY, now=TIMESTAMP)
    assert not verify("whsec_neither", header, BODY, now=TIMESTAMP)


def test_verify_ignores_unknown_schemes() -> None:
    header = f"t={TIMESTAMP},v0=whatever,v1={KNOWN_SIGNATURE}"

    assert verify(SECRET, header, BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        KNOWN_SIGNATURE,
        f"v1={KNOWN_SIGNATURE}",
        f"t={TIMESTAMP}",
        f"t=,v1={KNOWN_SIGNATURE}",
        f"t=abc,v1={KNOWN_SIGNATURE}",
        f"t=-{TIMESTAMP},v1={KNOWN_SIGNATURE}",
        f"t={TIMESTAMP},t={TIMESTAMP},v1={KNOWN_SIGNATURE}",
        f"t={TIMESTAMP},v1={KNOWN_SIGNATURE.upper()}",
        f"t={TIMESTAMP},v1={KNOWN_SIGNATURE[:-1]}",
        f"t={TIMESTAMP},v1={KNOWN_SIGNATURE}zz",
        f"t={TIMESTAMP},v1",
        f"t={TIMESTAMP};v1={KNOWN_SIGNATURE}",
        f"t={TIMESTAMP},v1={KNOWN_SIGNATURE}," + "x" * 5000,
    ],
)
def test_verify_rejects_malformed_headers(header: str) -> None:
    assert not verify(SECRET, header, BODY, now=TIMESTAMP)


def test_generate_secret() -> None:
    first, second = generate_secret(), generate_secret()

    assert first.startswith("whsec_")
    assert len(first) == len("whsec_") + 43  # token_urlsafe(32): 32 bytes, unpadded base64url
    assert first != second
    assert verify(first, signature_header(first, TIMESTAMP, BODY), BODY, now=TIMESTAMP)
