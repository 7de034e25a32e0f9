"""SQL implementation of the oauth core's store Protocols (piksend.oauth.stores).

The claim methods are single conditional UPDATEs: the row count picks the winner, on SQLite
(one writer at a time) and on PostgreSQL (row locks, READ COMMITTED re-check). RFC 6749
§4.1.2 (a code is used once), RFC 9700 §4.14.2 (refresh token rotation, family revocation).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from piksend.oauth import types as o
from piksend.oauth.refresh_grace import RetryCopy
from piksend.oauth.stores import redeem_code_in_steps, rotate_refresh_token_in_steps
from piksend.storage.oauth import sealed
from piksend.storage.oauth import statements as q
from piksend.storage.oauth.executor import AtomicWriter, Executor, SessionExecutor
from piksend.storage.oauth.grant_writes import REDEEM_CODE, ROTATE_REFRESH_TOKEN
from piksend.storage.oauth.rows import (
    client_from_row,
    code_from_row,
    owner_from_token_row,
    pending_from_row,
    profile_from_row,
    token_from_row,
)
from piksend.storage.tables import new_id


class SqlOAuthStore:
    """ClientStore, PendingStore, GrantStore and UserDirectory over one executor: an
    AsyncSession (pass the session itself) or a fast-path connection."""

    def __init__(self, source: AsyncSession | Executor) -> None:
        self.x: Executor = SessionExecutor(source) if isinstance(source, AsyncSession) else source
        # Owners' profiles read alongside tokens in this unit of work (never across requests).
        self._owners: dict[str, o.Profile | None] = {}
        # Secrets' uses noted by client authentication, written after the request
        # (piksend.clients.secret_uses); nothing is written in this unit for them.
        self.secret_uses: list[tuple[str, str, datetime]] = []

    # ClientStore
    async def get_client(self, client_id: str) -> o.Client | None:
        if "\x00" in client_id:
            return None  # no client id holds NUL (and PostgreSQL text cannot)
        row = await self.x.fetchrow(q.GET_CLIENT, {"client_id": client_id})
        return client_from_row(row) if row is not None else None

    def secret_used(self, client_id: str, digest: str, now: datetime) -> None:
        self.secret_uses.append((client_id, digest, now))

    # PendingStore
    async def save_pending(self, pending: o.PendingAuthorization) -> None:
        await self.x.rowcount(
            q.SAVE_PENDING,
            {
                "id": pending.id,
                "client_id": pending.client_id,
                "user_id": pending.user_id,
                "redirect_uri": pending.redirect_uri,
                "scope": " ".join(pending.scope),
                "state": pending.state,
                "code_challenge": pending.code_challenge,
                "code_challenge_method": pending.code_challenge_method,
                "expires_at": pending.expires_at,
                "resource": pending.resource,
            },
        )

    async def get_pending(self, pending_id: str, user_id: str) -> o.PendingAuthorization | None:
        row = await self.x.fetchrow(q.GET_PENDING, {"pid": pending_id, "uid": user_id})
        return pending_from_row(row) if row is not None else None

    async def take_pending(
        self, pending_id: str, user_id: str, now: datetime
    ) -> o.PendingAuthorization | None:
        pending = await self.get_pending(pending_id, user_id)
        if pending is None:
            return None
        taken = await self.x.rowcount(q.TAKE_PENDING, {"pid": pending_id, "uid": user_id})
        if taken != 1 or pending.expires_at <= now:
            return None
        return pending

    # GrantStore
    async def create_consent(
        self, *, user_id: str, client_id: str, scope: tuple[str, ...], now: datetime
    ) -> str:
        [consent_id] = await self.create_consents(
            1, user_id=user_id, client_id=client_id, scope=scope, now=now
        )
        return consent_id

    async def create_consents(
        self, n: int, *, user_id: str, client_id: str, scope: tuple[str, ...], now: datetime
    ) -> list[str]:
        """n consents of one user for one client in one batch (create_consent is n=1; the
        benchmark seed, bench/seed.py, mints one per token as real use does)."""
        ids = [new_id("cns") for _ in range(n)]
        rows = [
            {
                "id": consent_id,
                "user_id": user_id,
                "client_id": client_id,
                "scope": " ".join(scope),
                "created_at": now,
            }
            for consent_id in ids
        ]
        if n == 1:
            await self.x.rowcount(q.CREATE_CONSENT, rows[0])
        elif rows:
            await self.x.executemany(q.CREATE_CONSENT, rows)
        return ids

    async def guard_consent(self, consent_id: str, now: datetime) -> bool:
        params = {"b_consent_id": consent_id, "b_now": now}
        return await self.x.rowcount(q.GUARD_CONSENT, params) == 1

    async def revoke_consent(self, consent_id: str, now: datetime) -> None:
        params = {"b_consent_id": consent_id, "b_now": now}
        await self.x.rowcount(q.REVOKE_CONSENT, params)
        await self.x.rowcount(q.REVOKE_FAMILY, params)
        await self.x.rowcount(q.DROP_CONSENT_RETRIES, {"b_consent_id": consent_id})

    async def save_code(self, code: o.AuthorizationCode, now: datetime) -> None:
        await self.x.rowcount(q.SAVE_CODE, _code_row(code, now))

    async def save_codes(self, *codes: o.AuthorizationCode, now: datetime) -> None:
        """Many codes at once, each stored exactly as save_code stores it (bench/seed.py)."""
        await self.x.executemany(q.SAVE_CODE, [_code_row(code, now) for code in codes])

    async def find_code(self, digest: str) -> o.AuthorizationCode | None:
        row = await self.x.fetchrow(q.FIND_CODE, {"digest": digest})
        return code_from_row(row) if row is not None else None

    async def claim_code(self, digest: str, now: datetime) -> bool:
        return await self.x.rowcount(q.CLAIM_CODE, {"b_digest": digest, "b_now": now}) == 1

    async def save_tokens(self, *records: o.TokenRecord) -> None:
        await self.x.executemany(
            q.SAVE_TOKEN,
            [
                {
                    "digest": r.digest,
                    "kind": str(r.kind),
                    "consent_id": r.consent_id,
                    "client_id": r.client_id,
                    "user_id": r.user_id,
                    "scope": " ".join(r.scope),
                    "issued_at": r.issued_at,
                    "expires_at": r.expires_at,
                    "resource": r.resource,
                }
                for r in records
            ],
        )

    async def find_token(self, digest: str) -> o.TokenRecord | None:
        row = await self.x.fetchrow(q.FIND_TOKEN, {"digest": digest})
        if row is None:
            return None
        self._owners[row["user_id"]] = owner_from_token_row(row)
        return token_from_row(row)

    async def claim_refresh_token(self, digest: str, now: datetime) -> bool:
        return await self.x.rowcount(q.CLAIM_REFRESH, {"b_digest": digest, "b_now": now}) == 1

    async def revoke_token(self, digest: str, now: datetime) -> None:
        await self.x.rowcount(q.REVOKE_TOKEN, {"b_digest": digest, "b_now": now})

    async def redeem_code(
        self, digest: str, consent_id: str, new: tuple[o.TokenRecord, ...], now: datetime
    ) -> o.Transition:
        if not isinstance(self.x, AtomicWriter):
            return await redeem_code_in_steps(self, digest, consent_id, new, now)
        return await REDEEM_CODE.run(self.x, digest, consent_id, new, now)

    async def rotate_refresh_token(
        self,
        digest: str,
        consent_id: str,
        new: tuple[o.TokenRecord, ...],
        now: datetime,
        *,
        keep: RetryCopy | None = None,
    ) -> o.Transition:
        if not isinstance(self.x, AtomicWriter):
            return await rotate_refresh_token_in_steps(self, digest, consent_id, new, now, keep)
        kept = _retry_row(keep) if keep is not None else dict.fromkeys(_RETRY_PARAMS)
        extra = {f"k_{name}": value for name, value in kept.items()}
        return await ROTATE_REFRESH_TOKEN.run(self.x, digest, consent_id, new, now, extra)

    async def keep_retry(self, copy: RetryCopy) -> None:
        await self.x.rowcount(q.KEEP_RETRY, _retry_row(copy))

    async def drop_retry(self, successor: str) -> None:
        await self.x.rowcount(q.DROP_RETRY, {"b_successor": successor})

    async def find_retry(self, digest: str, presented: str, now: datetime) -> str | None:
        row = await self.x.fetchrow(q.FIND_RETRY, {"b_digest": digest, "b_now": now})
        return sealed.unseal(presented, digest, row["sealed"]) if row is not None else None

    # UserDirectory
    async def get_profile(self, user_id: str) -> o.Profile | None:
        if user_id in self._owners:
            return self._owners[user_id]
        row = await self.x.fetchrow(q.GET_PROFILE, {"uid": user_id})
        return profile_from_row(row) if row is not None else None

    async def get_username(self, user_id: str) -> str | None:
        profile = await self.get_profile(user_id)
        return profile.email if profile is not None else None


_RETRY_PARAMS = ("digest", "successor_digest", "consent_id", "client_id", "sealed", "expires_at")


def _code_row(code: o.AuthorizationCode, now: datetime) -> dict[str, object]:
    return {
        "digest": code.digest,
        "consent_id": code.consent_id,
        "client_id": code.client_id,
        "user_id": code.user_id,
        "redirect_uri": code.redirect_uri,
        "scope": " ".join(code.scope),
        "code_challenge": code.code_challenge,
        "code_challenge_method": code.code_challenge_method,
        "created_at": now,
        "expires_at": code.expires_at,
        "resource": code.resource,
    }


def _retry_row(copy: RetryCopy) -> dict[str, object]:
    """The row kept for a rotation's retries: the response sealed, the token itself nowhere."""
    return {
        "digest": copy.digest,
        "successor_digest": copy.successor,
        "consent_id": copy.consent_id,
        "client_id": copy.client_id,
        "sealed": sealed.seal(copy.presented, copy.digest, copy.response),
        "expires_at": copy.expires_at,
    }
