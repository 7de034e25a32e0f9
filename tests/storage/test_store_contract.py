"""One contract for the oauth stores, run against the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select

from piksend.oauth.refresh_grace import RetryCopy
from piksend.oauth.types import (
    AuthorizationCode,
    PendingAuthorization,
    Profile,
    TokenKind,
    TokenRecord,
    Transition,
)
from piksend.storage.engine import Database
from piksend.storage.oauth import SqlOAuthStore
from piksend.storage.oauth.executor import Statement
from piksend.storage.oauth.statements import CONSENT
from tests.support import db as testdb
from tests.support.memory_store import MemoryOAuthStore

NOW = datetime.now(UTC).replace(microsecond=0)


SQL_BACKENDS = ["sqlite", "sqlite-fast", "postgresql", "postgresql-asyncpg"]


@pytest.fixture(params=["memory", *SQL_BACKENDS])
async def store(request, tmp_path, tmp_path_factory):
    if request.param == "memory":
        yield MemoryOAuthStore()
        return
    async with sql_unit(request.param, tmp_path, tmp_path_factory) as sql:
        yield sql


@pytest.fixture(params=SQL_BACKENDS)
async def sql_store(request, tmp_path, tmp_path_factory):
    """The SQL store only, for what it does beyond the Protocols the fake implements."""
    async with sql_unit(request.param, tmp_path, tmp_path_factory) as sql:
        yield sql


@asynccontextmanager
async def sql_unit(backend, tmp_path, tmp_path_factory) -> AsyncIterator[SqlOAuthStore]:
    if backend.startswith("postgresql"):
        if testdb.pg_url() is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.reset_postgres(testdb.pg_url())
    else:
        url = testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp())
    db = Database(url)
    await testdb.add_user_and_client(db, NOW)
    try:
        if backend == "postgresql-asyncpg":
            # The hot endpoints' executor: the same statements straight on asyncpg.
            async with db.fast.unit(write=True) as fast_store:
                yield fast_store
        elif backend == "sqlite-fast":
            # The hot endpoints' executor on SQLite: the same statements on plain sqlite3.
            assert db.lite is not None
            async with db.lite.unit() as lite_store:
                yield lite_store
        else:
            async with db.unit_of_work() as session:
                yield SqlOAuthStore(session)
    finally:
        await db.dispose()


async def consent(store) -> str:
    return await store.create_consent(
        user_id="usr_a", client_id="cli_1", scope=("profile:read",), now=NOW
    )


def token(consent_id, digest, kind=TokenKind.ACCESS, ttl=3600) -> TokenRecord:
    return TokenRecord(
        digest=digest,
        kind=kind,
        consent_id=consent_id,
        client_id="cli_1",
        user_id="usr_a",
        scope=("profile:read",),
        issued_at=NOW,
        expires_at=NOW + timedelta(seconds=ttl),
    )


def code(consent_id, digest="c" * 64, ttl=60) -> AuthorizationCode:
    return AuthorizationCode(
        digest=digest,
        consent_id=consent_id,
        client_id="cli_1",
        user_id="usr_a",
        redirect_uri="https://a/cb",
        scope=("profile:read",),
        code_challenge="x" * 43,
        code_challenge_method="S256",
        expires_at=NOW + timedelta(seconds=ttl),
    )


async def test_a_code_can_be_claimed_once(store):
    cid = await consent(store)
    await store.save_code(code(cid), NOW)
    assert await store.claim_code("c" * 64, NOW) is True
    assert await store.claim_code("c" * 64, NOW) is False
    assert (await store.find_code("c" * 64)).used_at == NOW


async def test_an_expired_code_cannot_be_claimed(store):
    cid = await consent(store)
    await store.save_code(code(cid, ttl=60), NOW)
    assert await store.claim_code("c" * 64, NOW + timedelta(seconds=60)) is False


async def test_a_refresh_token_can_be_claimed_once_and_an_access_token_never(store):
    cid = await consent(store)
    await store.save_tokens(token(cid, "r" * 64, TokenKind.REFRESH), token(cid, "a" * 64))
    assert await store.claim_refresh_token("a" * 64, NOW) is False
    assert await store.claim_refresh_token("r" * 64, NOW) is True
    assert await store.claim_refresh_token("r" * 64, NOW) is False
    assert (await store.find_token("r" * 64)).rotated_at == NOW


async def test_revoking_a_consent_revokes_every_token_of_it_and_blocks_the_guard(store):
    cid = await consent(store)
    other = await consent(store)
    await store.save_tokens(
        token(cid, "1" * 64), token(cid, "2" * 64, TokenKind.REFRESH), token(other, "3" * 64)
    )
    assert await store.guard_consent(cid, NOW) is True
    await store.revoke_consent(cid, NOW)
    assert (await store.find_token("1" * 64)).revoked_at == NOW
    assert (await store.find_token("2" * 64)).revoked_at == NOW
    assert (await store.find_token("3" * 64)).revoked_at is None
    assert await store.guard_consent(cid, NOW) is False
    assert await store.claim_refresh_token("2" * 64, NOW) is False


async def test_revoke_token_touches_only_that_token(store):
    cid = await consent(store)
    await store.save_tokens(token(cid, "1" * 64), token(cid, "2" * 64))
    await store.revoke_token("1" * 64, NOW)
    assert (await store.find_token("1" * 64)).revoked_at == NOW
    assert (await store.find_token("2" * 64)).revoked_at is None


async def test_token_round_trip_keeps_aware_utc_times(store):
    cid = await consent(store)
    await store.save_tokens(token(cid, "1" * 64))
    found = await store.find_token("1" * 64)
    assert found.issued_at == NOW
    assert found.expires_at == NOW + timedelta(hours=1)
    assert found.expires_at.tzinfo is not None
    assert found.scope == ("profile:read",)
    assert found.kind is TokenKind.ACCESS
    assert await store.find_token("9" * 64) is None


NEW = ("4" * 64, "5" * 64)


def new_pair(consent_id) -> tuple[TokenRecord, TokenRecord]:
    return token(consent_id, NEW[0]), token(consent_id, NEW[1], TokenKind.REFRESH)


async def test_rotation_claims_once_and_saves_only_the_winners_pair(store):
    cid = await consent(store)
    await store.save_tokens(token(cid, "r" * 64, TokenKind.REFRESH))
    first = await store.rotate_refresh_token("r" * 64, cid, new_pair(cid), NOW)
    assert first is Transition.DONE
    assert (await store.find_token("r" * 64)).rotated_at == NOW
    assert (await store.find_token(NEW[1])).kind is TokenKind.REFRESH
    again = (token(cid, "6" * 64), token(cid, "7" * 64, TokenKind.REFRESH))
    assert await store.rotate_refresh_token("r" * 64, cid, again, NOW) is Transition.CLAIM_LOST
    assert await store.find_token("6" * 64) is None


CONSENT_LAST_USED = Statement(
    select(CONSENT.c.last_used_at).where(CONSENT.c.id == bindparam("consent_id"))
)


async def consent_last_used(store, consent_id) -> datetime | None:
    """When the consent was last used, as the grant writes marked it (guard_consent)."""
    if isinstance(store, MemoryOAuthStore):
        return store.consents[consent_id]["last_used_at"]
    row = await store.x.fetchrow(CONSENT_LAST_USED, {"consent_id": consent_id})
    return row["last_used_at"]


async def test_a_grants_write_marks_its_consent_used_at_that_moment(store):
    # The consent's last use (shown under connected apps, and the start of its idle lifetime,
    # oauth/grant_lifetime.py) is the time of the code redemption or rotation that used it.
    cid = await consent(store)
    assert await consent_last_used(store, cid) is None
    await store.save_code(code(cid), NOW)
    redeemed = NOW + timedelta(seconds=30)
    assert await store.redeem_code("c" * 64, cid, new_pair(cid), redeemed) is Transition.DONE
    assert await consent_last_used(store, cid) == redeemed
    rotated = NOW + timedelta(minutes=5)
    successors = (token(cid, "6" * 64), token(cid, "7" * 64, TokenKind.REFRESH))
    assert await store.rotate_refresh_token(NEW[1], cid, successors, rotated) is Transition.DONE
    assert await consent_last_used(store, cid) == rotated


async def test_rotation_of_a_revoked_consent_changes_nothing(store):
    cid = await consent(store)
    await store.save_tokens(token(cid, "r" * 64, TokenKind.REFRESH))
    await store.revoke_consent(cid, NOW)
    outcome = await store.rotate_refresh_token("r" * 64, cid, new_pair(cid), NOW)
    assert outcome is Transition.CONSENT_REVOKED
    assert (await store.find_token("r" * 64)).rotated_at is None
    assert await store.find_token(NEW[0]) is None


async def test_rotation_refuses_an_access_token_and_an_expired_refresh_token(store):
    cid = await consent(store)
    await store.save_tokens(token(cid, "a" * 64), token(cid, "r" * 64, TokenKind.REFRESH, 60))
    assert await store.rotate_refresh_token("a" * 64, cid, new_pair(cid), NOW) is (
        Transition.CLAIM_LOST
    )
    later = NOW + timedelta(seconds=60)
    assert await store.rotate_refresh_token("r" * 64, cid, new_pair(cid), later) is (
        Transition.CLAIM_LOST
    )
    assert await store.find_token(NEW[0]) is None


async def test_a_code_is_redeemed_once_and_only_the_winner_gets_tokens(store):
    cid = await consent(store)
    await store.save_code(code(cid), NOW)
    assert await store.redeem_code("c" * 64, cid, new_pair(cid), NOW) is Transition.DONE
    assert (await store.find_code("c" * 64)).used_at == NOW
    assert (await store.find_token(NEW[0])).consent_id == cid
    again = (token(cid, "6" * 64), token(cid, "7" * 64, TokenKind.REFRESH))
    assert await store.redeem_code("c" * 64, cid, again, NOW) is Transition.CLAIM_LOST
    assert await store.find_token("6" * 64) is None


async def test_a_code_of_a_revoked_consent_is_used_up_but_issues_nothing(store):
    cid = await consent(store)
    await store.save_code(code(cid), NOW)
    await store.revoke_consent(cid, NOW)
    assert await store.redeem_code("c" * 64, cid, new_pair(cid), NOW) is (
        Transition.CONSENT_REVOKED
    )
    assert (await store.find_code("c" * 64)).used_at == NOW
    assert await store.find_token(NEW[0]) is None


async def test_an_expired_code_is_not_redeemed(store):
    cid = await consent(store)
    await store.save_code(code(cid, ttl=60), NOW)
    later = NOW + timedelta(seconds=60)
    assert await store.redeem_code("c" * 64, cid, new_pair(cid), later) is Transition.CLAIM_LOST
    assert await store.find_token(NEW[0]) is None


def pending(expires_at) -> PendingAuthorization:
    return PendingAuthorization(
        id="p1",
        client_id="cli_1",
        user_id="usr_a",
        redirect_uri="https://a/cb",
        scope=("profile:read",),
        state="s",
        code_challenge="x" * 43,
        code_challenge_method="S256",
        expires_at=expires_at,
    )


async def test_a_pending_request_is_taken_once_and_only_by_its_user(store):
    await store.save_pending(pending(NOW + timedelta(minutes=5)))
    assert await store.take_pending("p1", "usr_other", NOW) is None
    taken = await store.take_pending("p1", "usr_a", NOW)
    assert taken.state == "s"
    assert await store.take_pending("p1", "usr_a", NOW) is None


async def test_an_expired_pending_request_is_not_taken(store):
    await store.save_pending(pending(NOW))
    assert await store.take_pending("p1", "usr_a", NOW) is None


MCP = "https://piksend.example/mcp"  # RFC 8707 §2: the one resource of a request, code, token


async def test_the_resource_of_a_pending_request_and_a_code_round_trips(store):
    await store.save_pending(replace(pending(NOW + timedelta(minutes=5)), resource=MCP))
    assert (await store.get_pending("p1", "usr_a")).resource == MCP
    assert (await store.take_pending("p1", "usr_a", NOW)).resource == MCP
    cid = await consent(store)
    await store.save_code(replace(code(cid), resource=MCP), NOW)
    assert (await store.find_code("c" * 64)).resource == MCP


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resource", MCP),
        # RFC 6749 §3.3: scope is a list of space-delimited strings, kept whole by every write
        ("scope", ("profile:read", "gallery:read", "gallery:write")),
    ],
)
async def test_tokens_keep_their_resource_and_every_scope_through_every_grant_write(
    store, field, value
):
    cid = await consent(store)
    await store.save_code(replace(code(cid), **{field: value}), NOW)
    pair = tuple(replace(r, **{field: value}) for r in new_pair(cid))
    assert await store.redeem_code("c" * 64, cid, pair, NOW) is Transition.DONE
    assert [getattr(await store.find_token(d), field) for d in NEW] == [value, value]
    rotated = (
        replace(token(cid, "6" * 64), **{field: value}),
        replace(token(cid, "7" * 64, TokenKind.REFRESH), **{field: value}),
    )
    assert await store.rotate_refresh_token(NEW[1], cid, rotated, NOW) is Transition.DONE
    kept = [getattr(await store.find_token(d), field) for d in ("6" * 64, "7" * 64)]
    assert kept == [value, value]


async def test_a_record_that_names_no_resource_reads_back_as_the_api_path(store):
    cid = await consent(store)
    await store.save_tokens(token(cid, "1" * 64))
    await store.save_code(code(cid), NOW)
    await store.save_pending(pending(NOW + timedelta(minutes=5)))
    assert (await store.find_token("1" * 64)).resource == "/api/v1"
    assert (await store.find_code("c" * 64)).resource == "/api/v1"
    assert (await store.get_pending("p1", "usr_a")).resource == "/api/v1"


# Issue 10, item 5 (piksend.oauth.refresh_grace, RFC 9700 §4.14.2): the successor response
# kept for grace retries, sealed for the holder of the rotated token.
OLD = "pks_rt_" + "o" * 43  # the rotated token in clear: the key, never stored
OLD_DIGEST = "r" * 64
KEPT = '{"access_token":"pks_at_kept","refresh_token":"pks_rt_kept"}'


def keep_copy(consent_id, *, until=NOW + timedelta(seconds=60), successor=NEW[1]):
    return RetryCopy(
        digest=OLD_DIGEST,
        presented=OLD,
        successor=successor,
        consent_id=consent_id,
        client_id="cli_1",
        response=KEPT,
        expires_at=until,
    )


async def rotated_with_copy(store) -> str:
    cid = await consent(store)
    await store.save_tokens(token(cid, OLD_DIGEST, TokenKind.REFRESH))
    outcome = await store.rotate_refresh_token(
        OLD_DIGEST, cid, new_pair(cid), NOW, keep=keep_copy(cid)
    )
    assert outcome is Transition.DONE
    return cid


async def test_a_rotation_keeps_its_successor_response_for_the_old_tokens_holder_only(store):
    await rotated_with_copy(store)
    assert await store.find_retry(OLD_DIGEST, OLD, NOW) == KEPT
    assert await store.find_retry(OLD_DIGEST, OLD, NOW + timedelta(seconds=59)) == KEPT
    assert await store.find_retry(OLD_DIGEST, "pks_rt_" + "x" * 43, NOW) is None
    assert await store.find_retry(NEW[1], OLD, NOW) is None


async def test_a_kept_response_is_gone_when_its_window_ends(store):
    await rotated_with_copy(store)
    assert await store.find_retry(OLD_DIGEST, OLD, NOW + timedelta(seconds=60)) is None


async def test_the_successors_first_use_ends_the_kept_response(store):
    cid = await rotated_with_copy(store)
    again = (token(cid, "6" * 64), token(cid, "7" * 64, TokenKind.REFRESH))
    assert await store.rotate_refresh_token(NEW[1], cid, again, NOW) is Transition.DONE
    assert await store.find_retry(OLD_DIGEST, OLD, NOW) is None


async def test_a_revoked_successor_or_consent_ends_the_kept_response(store):
    cid = await rotated_with_copy(store)
    await store.revoke_token(NEW[1], NOW)
    assert await store.find_retry(OLD_DIGEST, OLD, NOW) is None
    other = await rotated_with_other_old_token(store)
    assert await store.find_retry("q" * 64, OLD, NOW) == KEPT
    await store.revoke_consent(other, NOW)
    assert await store.find_retry("q" * 64, OLD, NOW) is None
    assert cid != other


async def rotated_with_other_old_token(store) -> str:
    cid = await consent(store)
    await store.save_tokens(token(cid, "q" * 64, TokenKind.REFRESH))
    copy = replace(keep_copy(cid, successor="8" * 64), digest="q" * 64)
    pair = (token(cid, "9" * 64), token(cid, "8" * 64, TokenKind.REFRESH))
    assert await store.rotate_refresh_token("q" * 64, cid, pair, NOW, keep=copy) is (
        Transition.DONE
    )
    return cid


async def test_a_lost_claim_or_a_revoked_consent_keeps_no_response(store):
    cid = await rotated_with_copy(store)
    again = (token(cid, "6" * 64), token(cid, "7" * 64, TokenKind.REFRESH))
    copy = replace(keep_copy(cid, successor="7" * 64), response='{"second":"pair"}')
    lost = await store.rotate_refresh_token(OLD_DIGEST, cid, again, NOW, keep=copy)
    assert lost is Transition.CLAIM_LOST
    assert await store.find_retry(OLD_DIGEST, OLD, NOW) == KEPT  # still the winner's
    revoked = await consent(store)
    await store.save_tokens(token(revoked, "q" * 64, TokenKind.REFRESH))
    await store.revoke_consent(revoked, NOW)
    copy = replace(keep_copy(revoked, successor="8" * 64), digest="q" * 64)
    pair = (token(revoked, "9" * 64), token(revoked, "8" * 64, TokenKind.REFRESH))
    outcome = await store.rotate_refresh_token("q" * 64, revoked, pair, NOW, keep=copy)
    assert outcome is Transition.CONSENT_REVOKED
    assert await store.find_retry("q" * 64, OLD, NOW) is None


# RFC 6749 §3.3: a scope is a list of space-delimited names; every record keeps all of them.
SCOPES = ("profile:read", "galleries:read")


async def test_every_scope_of_a_pending_request_a_code_and_a_token_round_trips(store):
    await store.save_pending(replace(pending(NOW + timedelta(minutes=5)), scope=SCOPES))
    assert (await store.get_pending("p1", "usr_a")).scope == SCOPES
    cid = await consent(store)
    await store.save_code(replace(code(cid), scope=SCOPES), NOW)
    assert (await store.find_code("c" * 64)).scope == SCOPES
    await store.save_tokens(replace(token(cid, "1" * 64), scope=SCOPES))
    assert (await store.find_token("1" * 64)).scope == SCOPES


async def test_an_unknown_client_code_or_token_is_none(store):
    assert await store.get_client("cli_unknown") is None
    assert await store.find_code("9" * 64) is None
    assert await store.find_token("9" * 64) is None
    assert await store.get_pending("p9", "usr_a") is None


async def test_a_client_id_holding_nul_names_no_client(sql_store):
    assert (await sql_store.get_client("cli_1")).client_id == "cli_1"
    assert await sql_store.get_client("cli_1\x00") is None


class NoDatabase:
    """An executor that fails every statement: for what must never reach the database."""

    async def fetchrow(self, statement, params):
        raise AssertionError(f"a statement reached the database: {params}")

    rowcount = executemany = fetchrow


async def test_a_client_id_holding_nul_is_refused_before_any_query():
    # PostgreSQL text cannot hold NUL (asyncpg raises on it): such an id, which no client
    # has, is answered "no client" without a query on every database.
    executor = NoDatabase()
    store = SqlOAuthStore(executor)
    assert store.x is executor  # an executor is used as given, a session is wrapped
    assert await store.get_client("cli_1\x00") is None
    assert await store.get_client("\x00") is None


async def consent_scope(sql_store, consent_id) -> str | None:
    read = Statement(select(CONSENT.c.scope).where(CONSENT.c.id == bindparam("id")))
    row = await sql_store.x.fetchrow(read, {"id": consent_id})
    return row["scope"] if row is not None else None


async def test_a_batch_of_consents_stores_each_with_its_own_id(sql_store):
    for n in (1, 2, 3):
        ids = await sql_store.create_consents(
            n, user_id="usr_a", client_id="cli_1", scope=SCOPES, now=NOW
        )
        assert len(ids) == len(set(ids)) == n
        for consent_id in ids:
            assert re.fullmatch(r"cns_[0-9a-f]{16}", consent_id)
            assert await consent_scope(sql_store, consent_id) == "profile:read galleries:read"
            assert await sql_store.guard_consent(consent_id, NOW) is True
    assert (
        await sql_store.create_consents(
            0, user_id="usr_a", client_id="cli_1", scope=SCOPES, now=NOW
        )
        == []
    )


async def test_a_consent_id_names_its_kind(store):
    assert (await consent(store)).startswith("cns_")


async def test_a_batch_of_codes_is_stored_as_save_code_stores_each(sql_store):
    cid = await consent(sql_store)
    first = replace(code(cid, "1" * 64), scope=SCOPES, resource=MCP)
    second = code(cid, "2" * 64, ttl=120)
    await sql_store.save_codes(first, second, now=NOW)
    assert await sql_store.find_code("1" * 64) == first
    assert await sql_store.find_code("2" * 64) == replace(second, resource="/api/v1")


async def test_an_empty_batch_of_codes_or_tokens_is_a_no_op_on_every_sql_backend(sql_store):
    # The session executor ran an executemany of no rows as one statement without values.
    await sql_store.save_codes(now=NOW)
    await sql_store.save_tokens()
    cid = await consent(sql_store)
    await sql_store.save_codes(code(cid, "3" * 64), now=NOW)  # the store still takes writes
    assert await sql_store.find_code("3" * 64) is not None


A_PROFILE = Profile(id="usr_a", email="a@example.com", name="A", avatar_url=None)


async def test_the_directory_reads_a_users_profile_and_knows_no_one_else(sql_store):
    # RFC 7662 §2.2: introspection's "username" is the owner's e-mail.
    assert await sql_store.get_profile("usr_a") == A_PROFILE
    assert await sql_store.get_username("usr_a") == "a@example.com"
    assert await sql_store.get_profile("usr_nobody") is None
    assert await sql_store.get_username("usr_nobody") is None


async def test_a_tokens_owner_is_known_without_another_query(sql_store):
    cid = await consent(sql_store)
    await sql_store.save_tokens(token(cid, "1" * 64))
    assert (await sql_store.find_token("1" * 64)).user_id == "usr_a"
    sql_store.x = NoDatabase()  # from here on, any statement fails the test
    assert await sql_store.get_profile("usr_a") == A_PROFILE
    assert await sql_store.get_username("usr_a") == "a@example.com"


async def test_a_secret_use_is_noted_for_after_the_request_not_written_in_the_unit(sql_store):
    # piksend.clients.secret_uses writes them once the answer is sent (web/secret_uses.py).
    assert sql_store.secret_uses == []
    sql_store.secret_used("cli_1", "d" * 64, NOW)
    sql_store.secret_used("cli_1", "e" * 64, NOW + timedelta(seconds=1))
    assert sql_store.secret_uses == [
        ("cli_1", "d" * 64, NOW),
        ("cli_1", "e" * 64, NOW + timedelta(seconds=1)),
    ]
    assert (await sql_store.get_client("cli_1")).secret_used_at is None
