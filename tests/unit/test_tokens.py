"""piksend.oauth.tokens: opaque credentials, RFC 6749 §10.10 (unguessable) and RFC 6819
§5.1.4.1.3 (stored as hashes)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from piksend.oauth import tokens
from piksend.oauth.tokens import Prefix


def random_bytes(value: str, prefix: str) -> bytes:
    """The random part of a credential, decoded from its unpadded base64url."""
    assert value.startswith(prefix)
    body = value.removeprefix(prefix)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body)
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


@pytest.mark.parametrize("prefix", list(Prefix))
def test_a_credential_is_its_prefix_and_256_random_bits(prefix):
    # RFC 6749 §10.10: 256 bits, well beyond guessing; base64url of 32 bytes is 43 characters.
    value = tokens.generate(prefix)

    assert len(value) == len(prefix) + 43
    assert len(random_bytes(value, prefix)) == 32


def test_a_credential_may_carry_fewer_random_bytes_when_asked():
    value = tokens.generate(Prefix.FORM_NONCE, 16)

    assert len(value) == len("pks_fn_") + 22
    assert len(random_bytes(value, "pks_fn_")) == 16


def test_a_client_id_is_its_prefix_and_128_random_bits():
    # A client_id is public (RFC 6749 §2.2): unique, not a secret, so 16 bytes (22 characters).
    client_id = tokens.generate_client_id()

    assert len(client_id) == len("pks_ci_") + 22
    assert len(random_bytes(client_id, "pks_ci_")) == 16


def test_two_credentials_are_never_the_same():
    assert tokens.generate(Prefix.ACCESS_TOKEN) != tokens.generate(Prefix.ACCESS_TOKEN)
    assert tokens.generate_client_id() != tokens.generate_client_id()


def test_a_credential_is_stored_as_its_sha256_hex_digest():
    # RFC 6819 §5.1.4.1.3: the store keeps the hash, never the value.
    assert tokens.digest("pks_at_abc") == hashlib.sha256(b"pks_at_abc").hexdigest()
    assert tokens.digest("é") == hashlib.sha256("é".encode()).hexdigest()
