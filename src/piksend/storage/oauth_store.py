"""SQL implementation of the oauth core's store Protocols (piksend.oauth.stores).

The claim methods are single conditional UPDATEs: the row count picks the winner, on
SQLite (one writer at a time) and on PostgreSQL (row locks, READ COMMITTED re-check).

Every statement is built once, with bind parameters, and runs through an *executor*: on a
SQLAlchemy session (SQLite, and every page of the site), or straight on an asyncpg
connection for the hot endpoints on PostgreSQL (piksend.storage.fastpath), which skips
SQLAlchemy's per-statement machinery: the same statements, compiled once for asyncpg.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Text, any_, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from piksend.oauth import types as o
from piksend.oauth.stores import redeem_code_in_steps, rotate_refresh_token_in_steps
from piksend.storage import tables as t

_PG = asyncpg_dialect.dialect()


class BatchForm:
    """The same SELECT for many keys at once (``column = ANY($1)``), so the fast path can
    answer concurrent lookups of one statement with one query (storage/fastpath.py)."""

    def __init__(self, query, column, param: str) -> None:
        # text[], not varchar(n)[]: a cast to varchar(n) would silently cut a longer key.
        keyed = query.where(column == any_(bindparam("keys", type_=ARRAY(Text()))))
        self.pg_sql: str = keyed.compile(dialect=_PG).string
        self.param = param  # the single statement's parameter holding the key
        self.column = column.key  # the result column the rows are matched back by


class Statement:
    """A Core statement, plus its asyncpg form compiled once (``$n`` placeholders)."""

    def __init__(self, core, *, batch: BatchForm | None = None) -> None:
        self.core = core
        self.batch = batch
        compiled = core.compile(dialect=_PG)
        self.pg_sql: str = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # Literal values the statement carries itself (such as kind = 'refresh').
        self._fixed: dict[str, Any] = {
            name: value for name, value in compiled.params.items() if value is not None
        }

    def pg_args(self, params: Mapping[str, Any]) -> tuple:
        fixed = self._fixed
        return tuple(params[n] if n in params else fixed[n] for n in self._names)


class Executor(Protocol):
    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        """The first row as a mapping (``row["column"]``), or None."""

    async def rowcount(self, statement: Statement, params: Mapping[str, Any]) -> int: ...

    async def executemany(
        self, statement: Statement, rows: Sequence[Mapping[str, Any]]
    ) -> None: ...


@runtime_checkable
class AtomicWriter(Protocol):
    """An executor on PostgreSQL where a statement runs as a transaction of its own unless one
    is open: a grant's whole write can then be one statement (``_REDEEM_CODE_PG`` and co).
    Executors without it run a grant's write as its steps inside their transaction."""

    async def atomic_row(self, statement: Statement, params: Mapping[str, Any]) -> Any: ...


class SessionExecutor:
    """Statements on an AsyncSession's own connection and transaction (Core, not the ORM)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._conn: AsyncConnection | None = None

    async def _execute(self, statement: Statement, params):
        if self._conn is None:
            self._conn = await self.session.connection()
        return await self._conn.execute(statement.core, params)

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]):
        return (await self._execute(statement, params)).mappings().first()

    async def rowcount(self, statement: Statement, params: Mapping[str, Any]) -> int:
        return (await self._execute(statement, params)).rowcount

    async def executemany(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        await self._execute(statement, list(rows))


def _scope(raw: str) -> tuple[str, ...]:
    return tuple(raw.split()) if raw else ()


def client_from_row(row) -> o.Client:
    uris = row["redirect_uris"] or ()
    if isinstance(uris, str):  # asyncpg hands a json column over as its text
        uris = json.loads(uris)
    return o.Client(
        client_id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        secret_digest=row["secret_digest"],
        redirect_uris=tuple(uris),
        scopes=_scope(row["scopes"]),
        description=row["description"] or "",
        logo_url=row["logo_url"],
        website_url=row["website_url"],
        previous_secret_digest=row["previous_secret_digest"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
    )


def _b(name: str):
    return bindparam(name)


_CODE = t.AuthorizationCode.__table__
_TOKEN = t.Token.__table__
_CONSENT = t.Consent.__table__
_PENDING = t.PendingAuthorization.__table__
_CLIENT = t.Client.__table__
_USER = t.User.__table__

# Built once: per request only their parameters change (bench/RESULTS.md).
_GET_CLIENT = Statement(
    select(_CLIENT).where(_CLIENT.c.id == _b("client_id")),
    batch=BatchForm(select(_CLIENT), _CLIENT.c.id, "client_id"),
)
# The token with its owner's profile in one round trip: introspection needs the e-mail
# (RFC 7662 §2.2 "username"), GET /api/v1/me the whole profile.
_TOKEN_WITH_OWNER = select(
    _TOKEN,
    _USER.c.email.label("owner_email"),
    _USER.c.name.label("owner_name"),
    _USER.c.avatar_url.label("owner_avatar_url"),
).join_from(_TOKEN, _USER, _USER.c.id == _TOKEN.c.user_id, isouter=True)
_FIND_TOKEN = Statement(
    _TOKEN_WITH_OWNER.where(_TOKEN.c.digest == _b("digest")),
    batch=BatchForm(_TOKEN_WITH_OWNER, _TOKEN.c.digest, "digest"),
)
_FIND_CODE = Statement(
    select(_CODE).where(_CODE.c.digest == _b("digest")),
    batch=BatchForm(select(_CODE), _CODE.c.digest, "digest"),
)
_GET_PROFILE = Statement(
    select(_USER.c.id, _USER.c.email, _USER.c.name, _USER.c.avatar_url).where(
        _USER.c.id == _b("uid")
    )
)
_GUARD_CONSENT = Statement(
    update(_CONSENT)
    .where(_CONSENT.c.id == _b("b_consent_id"), _CONSENT.c.revoked_at.is_(None))
    .values(last_used_at=_b("b_now"))
)
_CLAIM_CODE = Statement(
    update(_CODE)
    .where(
        _CODE.c.digest == _b("b_digest"),
        _CODE.c.used_at.is_(None),
        _CODE.c.expires_at > _b("b_now"),
    )
    .values(used_at=_b("b_now"))
)
_CLAIM_REFRESH = Statement(
    update(_TOKEN)
    .where(
        _TOKEN.c.digest == _b("b_digest"),
        _TOKEN.c.kind == str(o.TokenKind.REFRESH),
        _TOKEN.c.rotated_at.is_(None),
        _TOKEN.c.revoked_at.is_(None),
        _TOKEN.c.expires_at > _b("b_now"),
    )
    .values(rotated_at=_b("b_now"))
)
_REVOKE_TOKEN = Statement(
    update(_TOKEN)
    .where(_TOKEN.c.digest == _b("b_digest"), _TOKEN.c.revoked_at.is_(None))
    .values(revoked_at=_b("b_now"))
)
# RFC 9700 §4.14.2 / RFC 6749 §4.1.2: the consent row first, then every token of the family.
_REVOKE_CONSENT = Statement(
    update(_CONSENT)
    .where(_CONSENT.c.id == _b("b_consent_id"), _CONSENT.c.revoked_at.is_(None))
    .values(revoked_at=_b("b_now"))
)
_REVOKE_FAMILY = Statement(
    update(_TOKEN)
    .where(_TOKEN.c.consent_id == _b("b_consent_id"), _TOKEN.c.revoked_at.is_(None))
    .values(revoked_at=_b("b_now"))
)
_TOKEN_COLUMNS = (
    "digest",
    "kind",
    "consent_id",
    "client_id",
    "user_id",
    "scope",
    "issued_at",
    "expires_at",
)
_SAVE_TOKEN = Statement(insert(_TOKEN).values({c: _b(c) for c in _TOKEN_COLUMNS}))
_CODE_COLUMNS = (
    "digest",
    "consent_id",
    "client_id",
    "user_id",
    "redirect_uri",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "created_at",
    "expires_at",
)
_SAVE_CODE = Statement(insert(_CODE).values({c: _b(c) for c in _CODE_COLUMNS}))
_CONSENT_COLUMNS = ("id", "user_id", "client_id", "scope", "created_at")
_CREATE_CONSENT = Statement(insert(_CONSENT).values({c: _b(c) for c in _CONSENT_COLUMNS}))
_PENDING_COLUMNS = (
    "id",
    "client_id",
    "user_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "expires_at",
)
_SAVE_PENDING = Statement(insert(_PENDING).values({c: _b(c) for c in _PENDING_COLUMNS}))
_GET_PENDING = Statement(
    select(_PENDING).where(_PENDING.c.id == _b("pid"), _PENDING.c.user_id == _b("uid"))
)
_TAKE_PENDING = Statement(
    delete(_PENDING).where(_PENDING.c.id == _b("pid"), _PENDING.c.user_id == _b("uid"))
)


# A grant's whole write as one PostgreSQL statement (GrantStore.redeem_code and
# rotate_refresh_token): data-modifying CTEs, each step conditional on the one before through
# an uncorrelated EXISTS, which PostgreSQL evaluates before the next step reads a row; so the
# order of row locks is the steps' order (the consent before any token row), and the statement
# is atomic on its own. RFC 6749 §4.1.2 (a code is used once), RFC 9700 §4.14.2 (rotation).
_CODE_CLAIMED = """claimed AS (
    UPDATE authorization_codes SET used_at = :now
    WHERE digest = :digest AND used_at IS NULL AND expires_at > :now
    RETURNING digest
)"""
_CONSENT_GUARDED_AFTER_CLAIM = """guarded AS (
    UPDATE consents SET last_used_at = :now
    WHERE id = :consent_id AND revoked_at IS NULL AND EXISTS (SELECT FROM claimed)
    RETURNING id
)"""
_CONSENT_GUARDED = """guarded AS (
    UPDATE consents SET last_used_at = :now
    WHERE id = :consent_id AND revoked_at IS NULL
    RETURNING id
)"""
_REFRESH_CLAIMED_AFTER_GUARD = """claimed AS (
    UPDATE tokens SET rotated_at = :now
    WHERE digest = :digest AND kind = 'refresh' AND rotated_at IS NULL
      AND revoked_at IS NULL AND expires_at > :now AND EXISTS (SELECT FROM guarded)
    RETURNING digest
)"""
_SAVED_AFTER = """saved AS (
    INSERT INTO tokens (digest, kind, consent_id, client_id, user_id, scope, issued_at,
                        expires_at)
    SELECT * FROM unnest(
        CAST(:n_digest AS text[]), CAST(:n_kind AS text[]), CAST(:n_consent_id AS text[]),
        CAST(:n_client_id AS text[]), CAST(:n_user_id AS text[]), CAST(:n_scope AS text[]),
        CAST(:n_issued_at AS timestamptz[]), CAST(:n_expires_at AS timestamptz[]))
    WHERE EXISTS (SELECT FROM {after})
    RETURNING digest
)"""
_OUTCOME = """SELECT (SELECT count(*) FROM claimed) AS claimed,
       (SELECT count(*) FROM guarded) AS guarded, (SELECT count(*) FROM saved) AS saved"""


def _grant_write_statement(first: str, second: str) -> Statement:
    """``first``, then ``second`` if ``first`` changed a row, then the new tokens if ``second``
    did; and how far it got. The pieces are the constants above: no value is ever spliced in."""
    saved = _SAVED_AFTER.format(after=second.split(" ", 1)[0])
    return Statement(text(f"WITH {first},\n{second},\n{saved}\n{_OUTCOME}"))


_REDEEM_CODE_PG = _grant_write_statement(_CODE_CLAIMED, _CONSENT_GUARDED_AFTER_CLAIM)
_CODE_ORDER = (("claimed", o.Transition.CLAIM_LOST), ("guarded", o.Transition.CONSENT_REVOKED))
_ROTATE_REFRESH_PG = _grant_write_statement(_CONSENT_GUARDED, _REFRESH_CLAIMED_AFTER_GUARD)
_REFRESH_ORDER = (("guarded", o.Transition.CONSENT_REVOKED), ("claimed", o.Transition.CLAIM_LOST))


def _new_columns(new: tuple[o.TokenRecord, ...]) -> dict[str, list]:
    return {
        "n_digest": [r.digest for r in new],
        "n_kind": [str(r.kind) for r in new],
        "n_consent_id": [r.consent_id for r in new],
        "n_client_id": [r.client_id for r in new],
        "n_user_id": [r.user_id for r in new],
        "n_scope": [" ".join(r.scope) for r in new],
        "n_issued_at": [r.issued_at for r in new],
        "n_expires_at": [r.expires_at for r in new],
    }


class SqlOAuthStore:
    """ClientStore, PendingStore, GrantStore and UserDirectory over one executor: an
    AsyncSession (pass the session itself) or a fast-path connection."""

    def __init__(self, source: AsyncSession | Executor) -> None:
        self.x: Executor = SessionExecutor(source) if isinstance(source, AsyncSession) else source
        # Owners' profiles read alongside tokens in this unit of work (never across requests).
        self._owners: dict[str, o.Profile | None] = {}

    # ClientStore
    async def get_client(self, client_id: str) -> o.Client | None:
        if "\x00" in client_id:
            return None  # no client id holds NUL (and PostgreSQL text cannot)
        row = await self.x.fetchrow(_GET_CLIENT, {"client_id": client_id})
        return client_from_row(row) if row is not None else None

    # PendingStore
    async def save_pending(self, pending: o.PendingAuthorization) -> None:
        await self.x.rowcount(
            _SAVE_PENDING,
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
            },
        )

    async def get_pending(self, pending_id: str, user_id: str) -> o.PendingAuthorization | None:
        row = await self.x.fetchrow(_GET_PENDING, {"pid": pending_id, "uid": user_id})
        return _pending_from_row(row) if row is not None else None

    async def take_pending(
        self, pending_id: str, user_id: str, now: datetime
    ) -> o.PendingAuthorization | None:
        pending = await self.get_pending(pending_id, user_id)
        if pending is None:
            return None
        taken = await self.x.rowcount(_TAKE_PENDING, {"pid": pending_id, "uid": user_id})
        if taken != 1 or pending.expires_at <= now:
            return None
        return pending

    # GrantStore
    async def create_consent(
        self, *, user_id: str, client_id: str, scope: tuple[str, ...], now: datetime
    ) -> str:
        consent_id = t.new_id("cns")
        await self.x.rowcount(
            _CREATE_CONSENT,
            {
                "id": consent_id,
                "user_id": user_id,
                "client_id": client_id,
                "scope": " ".join(scope),
                "created_at": now,
            },
        )
        return consent_id

    async def guard_consent(self, consent_id: str, now: datetime) -> bool:
        params = {"b_consent_id": consent_id, "b_now": now}
        return await self.x.rowcount(_GUARD_CONSENT, params) == 1

    async def revoke_consent(self, consent_id: str, now: datetime) -> None:
        params = {"b_consent_id": consent_id, "b_now": now}
        await self.x.rowcount(_REVOKE_CONSENT, params)
        await self.x.rowcount(_REVOKE_FAMILY, params)

    async def save_code(self, code: o.AuthorizationCode, now: datetime) -> None:
        await self.x.rowcount(
            _SAVE_CODE,
            {
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
            },
        )

    async def find_code(self, digest: str) -> o.AuthorizationCode | None:
        row = await self.x.fetchrow(_FIND_CODE, {"digest": digest})
        if row is None:
            return None
        return o.AuthorizationCode(
            digest=row["digest"],
            consent_id=row["consent_id"],
            client_id=row["client_id"],
            user_id=row["user_id"],
            redirect_uri=row["redirect_uri"],
            scope=_scope(row["scope"]),
            code_challenge=row["code_challenge"],
            code_challenge_method=row["code_challenge_method"],
            expires_at=row["expires_at"],
            used_at=row["used_at"],
        )

    async def claim_code(self, digest: str, now: datetime) -> bool:
        return await self.x.rowcount(_CLAIM_CODE, {"b_digest": digest, "b_now": now}) == 1

    async def save_tokens(self, *records: o.TokenRecord) -> None:
        await self.x.executemany(
            _SAVE_TOKEN,
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
        row = await self.x.fetchrow(_FIND_TOKEN, {"digest": digest})
        if row is None:
            return None
        user_id = row["user_id"]
        self._owners[user_id] = (
            o.Profile(
                id=user_id,
                email=row["owner_email"],
                name=row["owner_name"],
                avatar_url=row["owner_avatar_url"],
            )
            if row["owner_email"] is not None
            else None
        )
        return o.TokenRecord(
            digest=row["digest"],
            kind=o.TokenKind(row["kind"]),
            consent_id=row["consent_id"],
            client_id=row["client_id"],
            user_id=user_id,
            scope=_scope(row["scope"]),
            issued_at=row["issued_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            rotated_at=row["rotated_at"],
        )

    async def claim_refresh_token(self, digest: str, now: datetime) -> bool:
        return await self.x.rowcount(_CLAIM_REFRESH, {"b_digest": digest, "b_now": now}) == 1

    async def revoke_token(self, digest: str, now: datetime) -> None:
        await self.x.rowcount(_REVOKE_TOKEN, {"b_digest": digest, "b_now": now})

    async def _grant_write(
        self, writer: AtomicWriter, statement: Statement, digest, consent_id, new, now, *, order
    ) -> o.Transition:
        """Run a grant's one-statement write; the first step of ``order`` that changed no row
        names the outcome (the steps run in that order, each only if the one before did)."""
        params = {"digest": digest, "consent_id": consent_id, "now": now, **_new_columns(new)}
        row = await writer.atomic_row(statement, params)
        for step, outcome in order:
            if not row[step]:
                return outcome
        return o.Transition.DONE

    async def redeem_code(
        self, digest: str, consent_id: str, new: tuple[o.TokenRecord, ...], now: datetime
    ) -> o.Transition:
        if not isinstance(self.x, AtomicWriter):
            return await redeem_code_in_steps(self, digest, consent_id, new, now)
        return await self._grant_write(
            self.x, _REDEEM_CODE_PG, digest, consent_id, new, now, order=_CODE_ORDER
        )

    async def rotate_refresh_token(
        self, digest: str, consent_id: str, new: tuple[o.TokenRecord, ...], now: datetime
    ) -> o.Transition:
        if not isinstance(self.x, AtomicWriter):
            return await rotate_refresh_token_in_steps(self, digest, consent_id, new, now)
        return await self._grant_write(
            self.x, _ROTATE_REFRESH_PG, digest, consent_id, new, now, order=_REFRESH_ORDER
        )

    # UserDirectory
    async def get_profile(self, user_id: str) -> o.Profile | None:
        if user_id in self._owners:
            return self._owners[user_id]
        row = await self.x.fetchrow(_GET_PROFILE, {"uid": user_id})
        if row is None:
            return None
        return o.Profile(
            id=row["id"], email=row["email"], name=row["name"], avatar_url=row["avatar_url"]
        )

    async def get_username(self, user_id: str) -> str | None:
        profile = await self.get_profile(user_id)
        return profile.email if profile is not None else None


def _pending_from_row(row) -> o.PendingAuthorization:
    return o.PendingAuthorization(
        id=row["id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        redirect_uri=row["redirect_uri"],
        scope=_scope(row["scope"]),
        state=row["state"],
        code_challenge=row["code_challenge"],
        code_challenge_method=row["code_challenge_method"],
        expires_at=row["expires_at"],
    )
