"""The storage the protocol core needs, as narrow Protocols; piksend.storage implements them.

Every method that decides a security-critical transition (``claim_code``,
``claim_refresh_token``, ``guard_consent``, ``take_pending``) must be one conditional
statement whose row count picks the single winner (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from piksend.oauth.types import (
    AuthorizationCode,
    Client,
    PendingAuthorization,
    Profile,
    TokenRecord,
)


class ClientStore(Protocol):
    async def get_client(self, client_id: str) -> Client | None: ...


class PendingStore(Protocol):
    async def save_pending(self, pending: PendingAuthorization) -> None: ...

    async def get_pending(self, pending_id: str, user_id: str) -> PendingAuthorization | None: ...

    async def take_pending(
        self, pending_id: str, user_id: str, now: datetime
    ) -> PendingAuthorization | None:
        """Delete and return an unexpired pending request; only one caller ever gets it."""


class GrantStore(Protocol):
    async def create_consent(
        self, *, user_id: str, client_id: str, scope: tuple[str, ...], now: datetime
    ) -> str: ...

    async def guard_consent(self, consent_id: str, now: datetime) -> bool:
        """Mark the consent used; False when it is revoked. Taken before any token row."""

    async def revoke_consent(self, consent_id: str, now: datetime) -> None:
        """Revoke the consent and every token born from it (consent row first)."""

    async def save_code(self, code: AuthorizationCode) -> None: ...

    async def find_code(self, digest: str) -> AuthorizationCode | None: ...

    async def claim_code(self, digest: str, now: datetime) -> bool: ...

    async def save_tokens(self, *records: TokenRecord) -> None: ...

    async def find_token(self, digest: str) -> TokenRecord | None: ...

    async def claim_refresh_token(self, digest: str, now: datetime) -> bool: ...

    async def revoke_token(self, digest: str, now: datetime) -> None: ...


class UserDirectory(Protocol):
    async def get_profile(self, user_id: str) -> Profile | None: ...

    async def get_username(self, user_id: str) -> str | None: ...
