"""Opaque credentials: random values with a recognisable prefix, stored only as SHA-256.

RFC 6749 §10.10: credentials must be unguessable (256 bits here). RFC 6819 §5.1.4.1.3:
store hashes, not the values. A fast hash is right for high-entropy secrets: there is
nothing to brute-force, and the token endpoint must stay fast.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum


class Prefix(StrEnum):
    ACCESS_TOKEN = "pks_at_"
    REFRESH_TOKEN = "pks_rt_"
    AUTHORIZATION_CODE = "pks_ac_"
    CLIENT_SECRET = "pks_cs_"
    CLIENT_ID = "pks_ci_"
    FORM_NONCE = "pks_fn_"


def generate(prefix: Prefix, nbytes: int = 32) -> str:
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def generate_client_id() -> str:
    return generate(Prefix.CLIENT_ID, 16)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
