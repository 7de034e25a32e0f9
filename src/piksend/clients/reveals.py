"""A client secret just made, kept for exactly one read: the page a create, rotate or
make-confidential POST redirects to (POST-redirect-GET, so a reload never re-posts).

The secret is sealed with AES-256-GCM (NIST SP 800-38D) under an HKDF-SHA256 (RFC 5869) key of
a 256-bit reveal key that only the browser holds (an HttpOnly cookie scoped to the reveal page);
the row is found by that key's digest and deleted by the one conditional statement that reads
it, so a second read, another user or another app finds nothing. Nothing at rest opens without
the cookie, and neither the secret nor the key is ever in a URL or a log. Rows live minutes.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.oauth import tokens
from piksend.storage import tables as t

REVEAL_TTL = timedelta(minutes=10)
_INFO = b"piksend client-secret reveal v1"
_SALT, _NONCE = 16, 12


class Kind(StrEnum):
    CREATED = "created"
    ROTATED = "rotated"
    CONFIDENTIAL = "confidential"


@dataclass(frozen=True)
class Revealed:
    kind: Kind
    secret: str


def _aead(key: str, salt: bytes) -> AESGCM:
    return AESGCM(
        HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(key.encode())
    )


def _associated(digest: str, client_id: str) -> bytes:
    return f"{digest}\n{client_id}".encode()


async def keep(
    session: AsyncSession, *, user_id: str, client_id: str, kind: Kind, secret: str, now: datetime
) -> str:
    """Seal ``secret`` for one read; returns the reveal key for the browser's cookie."""
    await session.execute(delete(t.SecretReveal).where(t.SecretReveal.expires_at <= now))
    key = secrets.token_urlsafe(32)
    digest = tokens.digest(key)
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    sealed = (
        salt
        + nonce
        + _aead(key, salt).encrypt(nonce, secret.encode(), _associated(digest, client_id))
    )
    session.add(
        t.SecretReveal(
            digest=digest,
            user_id=user_id,
            client_id=client_id,
            kind=kind.value,
            sealed=sealed,
            created_at=now,
            expires_at=now + REVEAL_TTL,
        )
    )
    await session.flush()
    return key


async def take(
    session: AsyncSession, *, user_id: str, client_id: str, key: str | None, now: datetime
) -> Revealed | None:
    """The sealed secret, once: the row is deleted as it is read (one statement, so two
    concurrent reads cannot both get it). None when gone, expired, or not this user's app."""
    if not key or len(key) > 100:
        return None
    digest = tokens.digest(key)
    row = (
        await session.execute(
            delete(t.SecretReveal)
            .where(
                t.SecretReveal.digest == digest,
                t.SecretReveal.user_id == user_id,
                t.SecretReveal.client_id == client_id,
                t.SecretReveal.expires_at > now,
            )
            .returning(t.SecretReveal.kind, t.SecretReveal.sealed)
        )
    ).first()
    if row is None:
        return None
    sealed = bytes(row.sealed)
    salt, nonce, body = sealed[:_SALT], sealed[_SALT : _SALT + _NONCE], sealed[_SALT + _NONCE :]
    try:
        secret = _aead(key, salt).decrypt(nonce, body, _associated(digest, client_id)).decode()
    except InvalidTag:
        return None
    return Revealed(Kind(row.kind), secret)
