"""Successor responses kept for grace retries, sealed for the holder of the rotated token
(RFC 9700 §4.14.2 with ``piksend.oauth.refresh_grace``; RFC 5869 HKDF, NIST SP 800-38D GCM).

Nothing at rest opens without the old refresh token, which is never stored (only its SHA-256
digest is): the key is HKDF-SHA256 of the presented token with a random salt of the row's own,
and AES-256-GCM seals the response with the token's digest as associated data, so a sealed
value moved to another row does not open either. A refresh token carries 256 random bits, so a
fast key derivation is enough: there is nothing to guess.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT_BYTES = 16
NONCE_BYTES = 12  # NIST SP 800-38D §8.2: 96-bit nonces; each key seals one value only
_INFO = b"piksend refresh-token retry v1"


def _key(presented: str, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO)
    return AESGCM(derived.derive(presented.encode()))


def seal(presented: str, digest: str, plaintext: str) -> bytes:
    """salt ‖ nonce ‖ AES-GCM(plaintext), under a key only ``presented`` derives."""
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    return salt + nonce + _key(presented, salt).encrypt(nonce, plaintext.encode(), digest.encode())


def unseal(presented: str, digest: str, sealed: bytes) -> str | None:
    """The plaintext, or None when ``presented`` (or ``digest``) is not the one it was sealed
    for, or the value was altered."""
    salt, nonce = sealed[:SALT_BYTES], sealed[SALT_BYTES : SALT_BYTES + NONCE_BYTES]
    body = sealed[SALT_BYTES + NONCE_BYTES :]
    try:
        return (
            _key(presented, bytes(salt))
            .decrypt(bytes(nonce), bytes(body), digest.encode())
            .decode()
        )
    except InvalidTag:
        return None
