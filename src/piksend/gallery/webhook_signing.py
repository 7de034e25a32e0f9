"""Webhook payload signatures.

Each delivery carries a header ``t=<unix timestamp>,v1=<hex HMAC-SHA256>`` where the MAC
is computed with the endpoint's secret over ``b"<timestamp>." + body``. Receivers check
the MAC in constant time and refuse timestamps outside a tolerance window, which bounds
replays. Several ``v1`` entries may be present, e.g. while a secret is being rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300

_MAX_HEADER_LENGTH = 4096
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``f"{timestamp}."`` followed by ``body``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """Return the header value ``t=<timestamp>,v1=<signature>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """Return True if ``header`` is a fresh, valid signature of ``body`` under ``secret``."""
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    parsed = _parse_header(header)
    if parsed is None:
        return False
    timestamp, signatures = parsed
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    # Compare against every candidate so the work done does not depend on which one matches.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    return any(matches)


def generate_secret() -> str:
    """Return a new random signing secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _parse_header(header: str) -> tuple[int, list[str]] | None:
    """Parse ``t=...,v1=...[,v1=...]``; unknown schemes are ignored. None if malformed."""
    if not isinstance(header, str) or len(header) > _MAX_HEADER_LENGTH:
        return None
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            return None
        if name == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                return None
            timestamp = int(value)
        elif name == "v1":
            if not _SIGNATURE.fullmatch(value):
                return None
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures
