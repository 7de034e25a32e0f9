"""SQL implementation of the oauth core's store Protocols (piksend.oauth.stores).

The claim methods are single conditional UPDATEs: the row count picks the winner, on
SQLite (one writer at a time) and on PostgreSQL (row locks, READ COMMITTED re-check).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from piksend.oauth import types as o
from piksend.storage import tables as t


def _scope(raw: str) -> tuple[str, ...]:
    return tuple(raw.split()) if raw else ()


def client_from_row(row) -> o.Client:
    return o.Client(
        client_id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        secret_digest=row.secret_digest,
        redirect_uris=tuple(row.redirect_uris or ()),
        scopes=_scope(row.scopes),
        description=row.description or "",
        logo_url=row.logo_url,
        website_url=row.website_url,
        previous_secret_digest=row.previous_secret_digest,
        previous_secret_expires_at=row.previous_secret_expires_at,
    )


_CODE = t.AuthorizationCode.__table__
_TOKEN = t.Token.__table__
_CONSENT = t.Consent.__table__
_PENDING = t.PendingAuthorization.__table__
_CLIENT = t.Client.__table__

# The hot statements are built once: per request only their parameters change (bench/RESULTS.md).
_GET_CLIENT = select(_CLIENT).where(_CLIENT.c.id == bindparam("client_id"))
_USER = t.User.__table__
# The token with its owner's e-mail in one round trip: introspection needs both (RFC 7662 §2.2).
_FIND_TOKEN = (
    select(_TOKEN, _USER.c.email.label("owner_email"))
    .join_from(_TOKEN, _USER, _USER.c.id == _TOKEN.c.user_id, isouter=True)
    .where(_TOKEN.c.digest == bindparam("digest"))
)
_FIND_CODE = select(_CODE).where(_CODE.c.digest == bindparam("digest"))
_GET_USERNAME = select(_USER.c.email).where(_USER.c.id == bindparam("uid"))
_NOW = bindparam("b_now")
_GUARD_CONSENT = (
    update(_CONSENT)
    .where(_CONSENT.c.id == bindparam("b_consent_id"), _CONSENT.c.revoked_at.is_(None))
    .values(last_used_at=_NOW)
)
_CLAIM_CODE = (
    update(_CODE)
    .where(
        _CODE.c.digest == bindparam("b_digest"),
        _CODE.c.used_at.is_(None),
        _CODE.c.expires_at > _NOW,
    )
    .values(used_at=_NOW)
)
_CLAIM_REFRESH = (
    update(_TOKEN)
    .where(
        _TOKEN.c.digest == bindparam("b_digest"),
        _TOKEN.c.kind == str(o.TokenKind.REFRESH),
        _TOKEN.c.rotated_at.is_(None),
        _TOKEN.c.revoked_at.is_(None),
        _TOKEN.c.expires_at > _NOW,
    )
    .values(rotated_at=_NOW)
)
_REVOKE_TOKEN = (
    update(_TOKEN)
    .where(_TOKEN.c.digest == bindparam("b_digest"), _TOKEN.c.revoked_at.is_(None))
    .values(revoked_at=_NOW)
)


class SqlOAuthStore:
    """ClientStore, PendingStore, GrantStore and UserDirectory over one AsyncSession."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._conn: AsyncConnection | None = None
        # Owners' e-mails read alongside tokens in this unit of work (never across requests).
        self._usernames: dict[str, str | None] = {}

    async def _execute(self, statement, params=None):
        """Core statements on the session's own connection and transaction, skipping the ORM
        layer (this store maps rows to the core's dataclasses itself)."""
        if self._conn is None:
            self._conn = await self.session.connection()
        return await self._conn.execute(statement, params)

    # ClientStore
    async def get_client(self, client_id: str) -> o.Client | None:
        row = (await self._execute(_GET_CLIENT, {"client_id": client_id})).first()
        return client_from_row(row) if row is not None else None

    # PendingStore
    async def save_pending(self, pending: o.PendingAuthorization) -> None:
        await self._execute(
            insert(_PENDING).values(
                id=pending.id,
                client_id=pending.client_id,
                user_id=pending.user_id,
                redirect_uri=pending.redirect_uri,
                scope=" ".join(pending.scope),
                state=pending.state,
                code_challenge=pending.code_challenge,
                code_challenge_method=pending.code_challenge_method,
                expires_at=pending.expires_at,
            )
        )

    async def get_pending(self, pending_id: str, user_id: str) -> o.PendingAuthorization | None:
        row = (
            await self._execute(
                select(_PENDING).where(_PENDING.c.id == pending_id, _PENDING.c.user_id == user_id)
            )
        ).first()
        return _pending_from_row(row) if row is not None else None

    async def take_pending(
        self, pending_id: str, user_id: str, now: datetime
    ) -> o.PendingAuthorization | None:
        pending = await self.get_pending(pending_id, user_id)
        if pending is None:
            return None
        result = await self._execute(
            delete(_PENDING).where(_PENDING.c.id == pending_id, _PENDING.c.user_id == user_id)
        )
        if result.rowcount != 1 or pending.expires_at <= now:
            return None
        return pending

    # GrantStore
    async def create_consent(
        self, *, user_id: str, client_id: str, scope: tuple[str, ...], now: datetime
    ) -> str:
        consent_id = t.new_id("cns")
        await self._execute(
            insert(_CONSENT).values(
                id=consent_id,
                user_id=user_id,
                client_id=client_id,
                scope=" ".join(scope),
                created_at=now,
            )
        )
        return consent_id

    async def guard_consent(self, consent_id: str, now: datetime) -> bool:
        result = await self._execute(_GUARD_CONSENT, {"b_consent_id": consent_id, "b_now": now})
        return result.rowcount == 1

    async def revoke_consent(self, consent_id: str, now: datetime) -> None:
        await self._execute(
            update(_CONSENT)
            .where(_CONSENT.c.id == consent_id, _CONSENT.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self._execute(
            update(_TOKEN)
            .where(_TOKEN.c.consent_id == consent_id, _TOKEN.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def save_code(self, code: o.AuthorizationCode) -> None:
        await self._execute(
            insert(_CODE).values(
                digest=code.digest,
                consent_id=code.consent_id,
                client_id=code.client_id,
                user_id=code.user_id,
                redirect_uri=code.redirect_uri,
                scope=" ".join(code.scope),
                code_challenge=code.code_challenge,
                code_challenge_method=code.code_challenge_method,
                created_at=t.utcnow(),
                expires_at=code.expires_at,
            )
        )

    async def find_code(self, digest: str) -> o.AuthorizationCode | None:
        row = (await self._execute(_FIND_CODE, {"digest": digest})).first()
        if row is None:
            return None
        return o.AuthorizationCode(
            digest=row.digest,
            consent_id=row.consent_id,
            client_id=row.client_id,
            user_id=row.user_id,
            redirect_uri=row.redirect_uri,
            scope=_scope(row.scope),
            code_challenge=row.code_challenge,
            code_challenge_method=row.code_challenge_method,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    async def claim_code(self, digest: str, now: datetime) -> bool:
        result = await self._execute(_CLAIM_CODE, {"b_digest": digest, "b_now": now})
        return result.rowcount == 1

    async def save_tokens(self, *records: o.TokenRecord) -> None:
        await self._execute(
            insert(_TOKEN),
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
                }
                for r in records
            ],
        )

    async def find_token(self, digest: str) -> o.TokenRecord | None:
        row = (await self._execute(_FIND_TOKEN, {"digest": digest})).first()
        if row is None:
            return None
        self._usernames[row.user_id] = row.owner_email
        return o.TokenRecord(
            digest=row.digest,
            kind=o.TokenKind(row.kind),
            consent_id=row.consent_id,
            client_id=row.client_id,
            user_id=row.user_id,
            scope=_scope(row.scope),
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            rotated_at=row.rotated_at,
        )

    async def claim_refresh_token(self, digest: str, now: datetime) -> bool:
        result = await self._execute(_CLAIM_REFRESH, {"b_digest": digest, "b_now": now})
        return result.rowcount == 1

    async def revoke_token(self, digest: str, now: datetime) -> None:
        await self._execute(_REVOKE_TOKEN, {"b_digest": digest, "b_now": now})

    # UserDirectory
    async def get_username(self, user_id: str) -> str | None:
        if user_id in self._usernames:
            return self._usernames[user_id]
        return (await self._execute(_GET_USERNAME, {"uid": user_id})).scalar_one_or_none()


def _pending_from_row(row) -> o.PendingAuthorization:
    return o.PendingAuthorization(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        redirect_uri=row.redirect_uri,
        scope=_scope(row.scope),
        state=row.state,
        code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method,
        expires_at=row.expires_at,
    )
