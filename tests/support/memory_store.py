"""An in-memory implementation of the oauth store Protocols, for unit tests of the core.

The store contract suite (tests/storage) runs the same assertions against this fake and
against the SQL store, so the fake cannot drift from the real semantics.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

from piksend.oauth.refresh_grace import RetryCopy
from piksend.oauth.stores import redeem_code_in_steps, rotate_refresh_token_in_steps
from piksend.oauth.types import (
    AuthorizationCode,
    Client,
    PendingAuthorization,
    Profile,
    TokenRecord,
    Transition,
)
from piksend.storage.oauth import sealed


class MemoryOAuthStore:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.pending: dict[str, PendingAuthorization] = {}
        self.consents: dict[str, dict] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.usernames: dict[str, str] = {}
        # Kept successor responses by rotated token digest: sealed exactly as SQL keeps them.
        self.retries: dict[str, dict] = {}
        self.secret_uses: list[tuple[str, str, datetime]] = []
        self._ids = itertools.count(1)

    async def get_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def secret_used(self, client_id: str, digest: str, now: datetime) -> None:
        """As piksend.clients.secret_uses writes it: the matching secret's last use."""
        self.secret_uses.append((client_id, digest, now))
        client = self.clients[client_id]
        if client.secret_digest == digest:
            self.clients[client_id] = replace(client, secret_used_at=now)
        elif client.previous_secret_digest == digest:
            self.clients[client_id] = replace(client, previous_secret_used_at=now)

    async def save_pending(self, pending: PendingAuthorization) -> None:
        self.pending[pending.id] = pending

    async def get_pending(self, pending_id: str, user_id: str) -> PendingAuthorization | None:
        found = self.pending.get(pending_id)
        return found if found is not None and found.user_id == user_id else None

    async def take_pending(self, pending_id, user_id, now) -> PendingAuthorization | None:
        found = await self.get_pending(pending_id, user_id)
        if found is None:
            return None
        del self.pending[pending_id]
        return found if found.expires_at > now else None

    async def create_consent(self, *, user_id, client_id, scope, now) -> str:
        consent_id = f"cns_{next(self._ids)}"
        self.consents[consent_id] = {
            "user_id": user_id,
            "client_id": client_id,
            "scope": scope,
            "created_at": now,
            "last_used_at": None,
            "revoked_at": None,
        }
        return consent_id

    async def guard_consent(self, consent_id: str, now: datetime) -> bool:
        consent = self.consents.get(consent_id)
        if consent is None or consent["revoked_at"] is not None:
            return False
        consent["last_used_at"] = now
        return True

    async def revoke_consent(self, consent_id: str, now: datetime) -> None:
        consent = self.consents.get(consent_id)
        if consent is not None and consent["revoked_at"] is None:
            consent["revoked_at"] = now
        for digest, record in list(self.tokens.items()):
            if record.consent_id == consent_id and record.revoked_at is None:
                self.tokens[digest] = replace(record, revoked_at=now)
        for digest, kept in list(self.retries.items()):
            if kept["consent_id"] == consent_id:
                del self.retries[digest]

    async def save_code(self, code: AuthorizationCode, now: datetime) -> None:
        self.codes[code.digest] = code

    async def find_code(self, digest: str) -> AuthorizationCode | None:
        return self.codes.get(digest)

    async def claim_code(self, digest: str, now: datetime) -> bool:
        code = self.codes.get(digest)
        if code is None or code.used_at is not None or code.expires_at <= now:
            return False
        self.codes[digest] = replace(code, used_at=now)
        return True

    async def save_tokens(self, *records: TokenRecord) -> None:
        for record in records:
            self.tokens[record.digest] = record

    async def find_token(self, digest: str) -> TokenRecord | None:
        record = self.tokens.get(digest)
        consent = self.consents.get(record.consent_id) if record is not None else None
        if record is None or consent is None:
            return record
        return replace(record, granted_at=consent["created_at"])  # read with the token, as SQL

    async def claim_refresh_token(self, digest: str, now: datetime) -> bool:
        record = self.tokens.get(digest)
        if (
            record is None
            or record.kind != "refresh"
            or record.rotated_at is not None
            or record.revoked_at is not None
            or record.expires_at <= now
        ):
            return False
        self.tokens[digest] = replace(record, rotated_at=now)
        return True

    async def revoke_token(self, digest: str, now: datetime) -> None:
        record = self.tokens.get(digest)
        if record is not None and record.revoked_at is None:
            self.tokens[digest] = replace(record, revoked_at=now)

    async def redeem_code(self, digest, consent_id, new, now) -> Transition:
        return await redeem_code_in_steps(self, digest, consent_id, new, now)

    async def rotate_refresh_token(self, digest, consent_id, new, now, *, keep=None) -> Transition:
        return await rotate_refresh_token_in_steps(self, digest, consent_id, new, now, keep)

    async def keep_retry(self, copy: RetryCopy) -> None:
        self.retries[copy.digest] = {
            "successor": copy.successor,
            "consent_id": copy.consent_id,
            "sealed": sealed.seal(copy.presented, copy.digest, copy.response),
            "expires_at": copy.expires_at,
        }

    async def drop_retry(self, successor: str) -> None:
        for digest, kept in list(self.retries.items()):
            if kept["successor"] == successor:
                del self.retries[digest]

    async def find_retry(self, digest: str, presented: str, now: datetime) -> str | None:
        kept = self.retries.get(digest)
        successor = self.tokens.get(kept["successor"]) if kept is not None else None
        if (
            kept is None
            or kept["expires_at"] <= now
            or successor is None
            or successor.rotated_at is not None
            or successor.revoked_at is not None
        ):
            return None
        return sealed.unseal(presented, digest, kept["sealed"])

    async def get_profile(self, user_id: str) -> Profile | None:
        email = self.usernames.get(user_id)
        return Profile(id=user_id, email=email, name=email) if email is not None else None

    async def get_username(self, user_id: str) -> str | None:
        return self.usernames.get(user_id)
