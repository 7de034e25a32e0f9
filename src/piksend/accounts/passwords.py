"""argon2id password hashing, run off the event loop (a hash takes tens of milliseconds)."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
# Verified when the e-mail is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("piksend-dummy-password")

MIN_LENGTH = 8  # NIST SP 800-63B §5.1.1.2: at least 8; the policy is accounts/password_policy.py
MAX_LENGTH = 256


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from. One longer than any password
    accepted is wrong, never truncated into a match (and costs no hash)."""
    if len(password) > MAX_LENGTH:
        return False
    return await anyio.to_thread.run_sync(_verify, stored, password)
