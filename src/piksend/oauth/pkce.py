"""PKCE, RFC 7636: S256 only (RFC 9700 §2.1.1 forbids falling back to "plain")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from piksend.oauth.errors import InvalidGrantError, InvalidRequestError

# RFC 7636 §4.1: code-verifier = 43*128unreserved
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding is always 43 characters.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")

SUPPORTED_METHODS = ("S256",)
INVALID_VERIFIER = "Invalid code_verifier"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def validate_challenge(challenge: str | None, method: str | None) -> str:
    """RFC 7636 §4.4.1: a missing challenge is invalid_request; we require it for every client."""
    if not challenge:
        raise InvalidRequestError("code_challenge is required (PKCE)")
    if not method:
        raise InvalidRequestError("code_challenge_method is required and must be S256")
    if method not in SUPPORTED_METHODS:
        raise InvalidRequestError("code_challenge_method must be S256")
    if not _S256_CHALLENGE.fullmatch(challenge):
        raise InvalidRequestError("code_challenge must be 43 characters of base64url (S256)")
    return challenge


def verify(verifier: str | None, challenge: str) -> None:
    """RFC 7636 §4.6: recompute the challenge; any mismatch is invalid_grant."""
    if not verifier:
        raise InvalidRequestError("code_verifier is required")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrantError(INVALID_VERIFIER)
    if not hmac.compare_digest(s256(verifier), challenge):
        raise InvalidGrantError(INVALID_VERIFIER)
