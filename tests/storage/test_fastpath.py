"""The hot endpoints' PostgreSQL fast path: coalesced lookups, lazy connections, units."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from piksend.oauth.errors import InvalidGrantError
from piksend.oauth.types import TokenKind, TokenRecord, Transition
from piksend.storage import tables as t
from piksend.storage.engine import Database
from piksend.storage.oauth import MAX_BATCH, AtomicWriter, SqlOAuthStore
from tests.support import db as testdb

NOW = datetime.now(UTC).replace(microsecond=0)
D1, D2 = f"{1:064x}", f"{2:064x}"


@pytest.fixture
async def db():
    if testdb.pg_url() is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    database = Database(testdb.reset_postgres(testdb.pg_url()), pool_size=24)
    await testdb.add_user_and_client(database, NOW, name="Ann")
    async with database.unit_of_work() as session:
        session.add(
            t.Consent(id="cns_1", user_id="usr_a", client_id="cli_1", scope="x", created_at=NOW)
        )
    async with database.fast.unit(write=True) as store:
        await store.save_tokens(*(token(f"{i:064x}") for i in range(10)))
    yield database
    await database.dispose()


def token(digest: str, kind: TokenKind = TokenKind.ACCESS) -> TokenRecord:
    return TokenRecord(
        digest=digest,
        kind=kind,
        consent_id="cns_1",
        client_id="cli_1",
        user_id="usr_a",
        scope=("profile:read",),
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )


def count_queries(db: Database, monkeypatch) -> list[list]:
    rounds: list[list] = []
    real = db.fast.fetch

    async def counting(sql, keys):
        rounds.append(list(keys))
        return await real(sql, keys)

    monkeypatch.setattr(db.fast, "fetch", counting)
    return rounds


async def lookup(db: Database, digest: str):
    async with db.oauth_unit(write=False) as store:
        return await store.find_token(digest)


async def test_concurrent_lookups_are_answered_by_one_query_each_with_its_own_row(db, monkeypatch):
    rounds = count_queries(db, monkeypatch)
    digests = [f"{i:064x}" for i in range(10)] + ["f" * 64]
    found = await asyncio.gather(*(lookup(db, d) for d in digests))
    assert len(rounds) == 1 and sorted(rounds[0]) == sorted(digests)
    assert [r.digest if r else None for r in found] == [*digests[:10], None]


async def test_the_same_key_asked_twice_at_once_is_queried_once_and_answers_both(db, monkeypatch):
    rounds = count_queries(db, monkeypatch)
    a, b = await asyncio.gather(lookup(db, "0" * 64), lookup(db, "0" * 64))
    assert rounds == [["0" * 64]]
    assert a == b and a is not None


async def test_lookups_arriving_during_a_round_go_in_the_next_one(db, monkeypatch):
    rounds = count_queries(db, monkeypatch)
    first = asyncio.ensure_future(lookup(db, f"{1:064x}"))
    await asyncio.sleep(0)  # the first round is now under way
    await asyncio.sleep(0)
    rest = await asyncio.gather(*(lookup(db, f"{i:064x}") for i in range(2, 6)))
    assert (await first).digest == f"{1:064x}"
    assert all(r is not None for r in rest)
    assert len(rounds) == 2 and rounds[0] == [f"{1:064x}"]


async def test_nothing_is_cached_between_lookups_a_revocation_is_seen_at_once(db):
    digest = "0" * 64
    assert (await lookup(db, digest)).revoked_at is None
    async with db.oauth_unit(write=True) as store:
        await store.revoke_token(digest, NOW)
    assert (await lookup(db, digest)).revoked_at == NOW


async def test_a_key_longer_than_the_column_is_not_cut_to_match(db):
    async with db.oauth_unit(write=False) as store:
        assert (await store.get_client("cli_1")) is not None
        assert (await store.get_client("cli_1" + " " * 70)) is None
        assert (await store.get_client("cli_1\x00")) is None


async def test_a_failed_query_fails_every_lookup_of_its_round(db, monkeypatch):
    async def broken(sql, keys):
        raise ConnectionError("database went away")

    monkeypatch.setattr(db.fast, "fetch", broken)
    results = await asyncio.gather(
        lookup(db, "0" * 64), lookup(db, "1" * 64), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_the_token_lookup_carries_the_owners_profile(db, monkeypatch):
    rounds = count_queries(db, monkeypatch)
    async with db.oauth_unit(write=False) as store:
        record = await store.find_token("0" * 64)
        profile = await store.get_profile(record.user_id)
        assert await store.get_username(record.user_id) == "a@example.com"
    assert (profile.name, profile.email, profile.avatar_url) == ("Ann", "a@example.com", None)
    assert len(rounds) == 1  # the profile came with the token


async def test_a_read_only_unit_borrows_no_connection(db, monkeypatch):
    borrowed = []
    real = db.fast.acquire

    async def acquire():
        borrowed.append(1)
        return await real()

    monkeypatch.setattr(db.fast, "acquire", acquire)
    await lookup(db, "0" * 64)
    assert borrowed == []
    async with db.oauth_unit(write=True) as store:
        await store.revoke_token("0" * 64, NOW)
    assert borrowed == [1]


async def test_a_write_unit_commits_on_an_oauth_error_and_rolls_back_on_anything_else(db):
    with pytest.raises(RuntimeError):
        async with db.oauth_unit(write=True) as store:
            await store.revoke_token(D1, NOW)
            raise RuntimeError("boom")
    assert (await lookup(db, D1)).revoked_at is None
    with pytest.raises(InvalidGrantError):
        async with db.oauth_unit(write=True) as store:
            await store.revoke_token(D1, NOW)
            raise InvalidGrantError("replayed")
    assert (await lookup(db, D1)).revoked_at == NOW


async def test_a_cancelled_unit_does_not_lend_out_an_open_transaction(db):
    started = asyncio.Event()

    async def interrupted():
        async with db.oauth_unit(write=True) as store:
            await store.revoke_token(D2, NOW)
            started.set()
            await asyncio.sleep(30)

    task = asyncio.ensure_future(interrupted())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    conns = [await db.fast.acquire() for _ in range(db.fast.size)]
    try:
        assert not any(c.is_in_transaction() for c in conns)
    finally:
        for c in conns:
            await db.fast.release(c)
    assert (await lookup(db, D2)).revoked_at is None


async def test_twenty_concurrent_rotations_of_one_refresh_token_have_one_winner(db):
    old = "e" * 64
    async with db.oauth_unit(write=True) as store:
        await store.save_tokens(token(old, TokenKind.REFRESH))

    async def rotate(i: int):
        pair = (token(f"a{i:063x}"), token(f"b{i:063x}", TokenKind.REFRESH))
        async with db.oauth_unit(write=True) as store:
            return await store.rotate_refresh_token(old, "cns_1", pair, NOW)

    outcomes = await asyncio.gather(*(rotate(i) for i in range(20)))
    assert outcomes.count(Transition.DONE) == 1
    assert outcomes.count(Transition.CLAIM_LOST) == 19
    winner = outcomes.index(Transition.DONE)
    for i in range(20):
        found = await lookup(db, f"b{i:063x}")
        assert (found is not None) == (i == winner)


async def test_a_revocation_racing_rotations_leaves_no_live_token_behind(db):
    olds = [f"d{i:063x}" for i in range(10)]
    async with db.oauth_unit(write=True) as store:
        await store.save_tokens(*(token(o, TokenKind.REFRESH) for o in olds))

    async def rotate(i: int):
        pair = (token(f"a{i:063x}"), token(f"b{i:063x}", TokenKind.REFRESH))
        async with db.oauth_unit(write=True) as store:
            return await store.rotate_refresh_token(olds[i], "cns_1", pair, NOW)

    async def revoke():
        async with db.oauth_unit(write=True) as store:
            await store.revoke_consent("cns_1", NOW)

    jobs = [rotate(i) for i in range(5)] + [revoke()] + [rotate(i) for i in range(5, 10)]
    outcomes = await asyncio.gather(*jobs)
    assert set(outcomes) <= {Transition.DONE, Transition.CONSENT_REVOKED, None}
    for i in range(10):
        for digest in (olds[i], f"a{i:063x}", f"b{i:063x}"):
            found = await lookup(db, digest)
            assert found is None or found.revoked_at is not None, digest


async def test_a_round_holds_at_most_max_batch_keys_and_the_rest_go_next(db, monkeypatch):
    rounds = count_queries(db, monkeypatch)
    digests = [f"c{i:063x}" for i in range(MAX_BATCH + 44)] + [f"{3:064x}"]
    found = await asyncio.gather(*(lookup(db, d) for d in digests))
    assert [len(keys) for keys in rounds] == [MAX_BATCH, 45]
    assert found[-1].digest == f"{3:064x}" and all(r is None for r in found[:-1])


async def test_only_the_fast_path_writes_a_grant_in_one_statement(db):
    async with db.oauth_unit(write=True) as fast_store:
        assert isinstance(fast_store.x, AtomicWriter)
    async with db.unit_of_work() as session:
        assert not isinstance(SqlOAuthStore(session).x, AtomicWriter)
