"""The storage the protocol core needs, as narrow Protocols; piksend.storage implements them.

Every method that decides a security-critical transition (``claim_code``,
``claim_refresh_token``, ``guard_consent``, ``take_pending``) must be one conditional
statement whose row count picks the single winner (RFC 6749 §4.1.2, RFC 9700 §4.14.2).

``redeem_code`` and ``rotate_refresh_token`` are a grant's whole write: claim, guard the consent,
save the new tokens, in the order their docstrings give (the consent row is always locked before
any token row is written, the order revocation takes, so a concurrent revocation cannot miss the
new tokens). A store runs them as those steps inside its transaction, or as one statement where
its database can (PostgreSQL: data-modifying CTEs, each step conditional on the one before).

A rotation also keeps its successor response for grace retries (``piksend.oauth.refresh_grace``,
RFC 9700 §4.14.2) in that same write, sealed so that only the holder of the rotated token can
open it, and drops the copy kept for the token it rotates: the successor's first use ends it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from piksend.oauth.refresh_grace import RetryCopy
from piksend.oauth.types import (
    AuthorizationCode,
    Client,
    PendingAuthorization,
    Profile,
    TokenRecord,
    Transition,
)


class ClientStore(Protocol):
    async def get_client(self, client_id: str) -> Client | None: ...


class AuthenticatingClientStore(ClientStore, Protocol):
    def secret_used(self, client_id: str, digest: str, now: datetime) -> None:
        """Note that the secret of this digest authenticated the client at ``now``; called at
        most once an hour per secret. Written after the request, outside its transaction."""


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
        """Revoke the consent and every token born from it (consent row first), and drop the
        successor responses kept for its retries."""

    async def save_code(self, code: AuthorizationCode, now: datetime) -> None: ...

    async def find_code(self, digest: str) -> AuthorizationCode | None: ...

    async def claim_code(self, digest: str, now: datetime) -> bool: ...

    async def save_tokens(self, *records: TokenRecord) -> None: ...

    async def find_token(self, digest: str) -> TokenRecord | None: ...

    async def claim_refresh_token(self, digest: str, now: datetime) -> bool: ...

    async def revoke_token(self, digest: str, now: datetime) -> None: ...

    async def redeem_code(
        self, digest: str, consent_id: str, new: tuple[TokenRecord, ...], now: datetime
    ) -> Transition:
        """claim_code, then guard_consent, then save_tokens(*new); stop at the first that fails."""

    async def rotate_refresh_token(
        self,
        digest: str,
        consent_id: str,
        new: tuple[TokenRecord, ...],
        now: datetime,
        *,
        keep: RetryCopy | None = None,
    ) -> Transition:
        """guard_consent, then claim_refresh_token (and drop_retry(digest)), then
        save_tokens(*new) and keep_retry(keep); stop at the first that fails (a revoked
        consent is reported before a lost claim)."""

    async def keep_retry(self, copy: RetryCopy) -> None:
        """Keep ``copy.response`` sealed under a key derived from ``copy.presented`` (never
        stored), until ``copy.expires_at``."""

    async def drop_retry(self, successor: str) -> None:
        """Drop the copy whose successor is the refresh token of digest ``successor``."""

    async def find_retry(self, digest: str, presented: str, now: datetime) -> str | None:
        """The successor response kept for the rotated token ``digest``, opened with the
        ``presented`` token: None unless it is kept, its window has not ended and its
        successor was never used (neither rotated nor revoked), or if it does not open."""


class UserDirectory(Protocol):
    async def get_profile(self, user_id: str) -> Profile | None: ...

    async def get_username(self, user_id: str) -> str | None: ...


async def redeem_code_in_steps(
    store: GrantStore, digest: str, consent_id: str, new: tuple[TokenRecord, ...], now: datetime
) -> Transition:
    """GrantStore.redeem_code as its steps, for a store that runs them in one transaction."""
    if not await store.claim_code(digest, now):
        return Transition.CLAIM_LOST
    if not await store.guard_consent(consent_id, now):
        return Transition.CONSENT_REVOKED
    await store.save_tokens(*new)
    return Transition.DONE


async def rotate_refresh_token_in_steps(
    store: GrantStore,
    digest: str,
    consent_id: str,
    new: tuple[TokenRecord, ...],
    now: datetime,
    keep: RetryCopy | None = None,
) -> Transition:
    """GrantStore.rotate_refresh_token as its steps, for a store that runs them in one
    transaction."""
    if not await store.guard_consent(consent_id, now):
        return Transition.CONSENT_REVOKED
    if not await store.claim_refresh_token(digest, now):
        return Transition.CLAIM_LOST
    # RFC 9700 §4.14.2: this token's first use ends the grace of the one it succeeded.
    await store.drop_retry(digest)
    await store.save_tokens(*new)
    if keep is not None:
        await store.keep_retry(keep)
    return Transition.DONE
