"""The shared fixed-window counters: atomic, shared by every node, on SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from piksend.storage.counters import Counters, RedisCounters, SqlCounters, build_counters
from piksend.storage.engine import Database
from tests.support import db as testdb

REDIS_ENV = "PIKSEND_TEST_REDIS_URL"
NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
WINDOW = 900


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
async def nodes(request, tmp_path, tmp_path_factory) -> AsyncIterator[Callable[[], Counters]]:
    """Makes counters as separate nodes would: each its own connections to one shared store."""
    made: list[Counters] = []
    databases: list[Database] = []
    if request.param == "redis":
        url = os.environ.get(REDIS_ENV)
        if not url:
            pytest.skip(f"{REDIS_ENV} is not set: Redis variant skipped (CI sets it)")
        prefix = f"piksend-test:{uuid.uuid4().hex}:"

        def make() -> Counters:
            made.append(RedisCounters(url, prefix=prefix))
            return made[-1]
    else:
        if request.param == "postgresql":
            base = testdb.pg_url()
            if base is None:
                pytest.skip(testdb.PG_SKIP_REASON)
            url = testdb.reset_postgres(base)
        else:
            url = testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp())

        def make() -> Counters:
            databases.append(Database(url))
            made.append(SqlCounters(databases[-1]))
            return made[-1]

    yield make
    if request.param == "redis":
        from redis.asyncio import Redis

        cleaner = Redis.from_url(url)
        keys = [key async for key in cleaner.scan_iter(match=prefix + "*")]
        if keys:
            await cleaner.delete(*keys)
        await cleaner.aclose()
    for counters in made:
        await counters.close()
    for database in databases:
        await database.dispose()


async def test_hits_on_one_key_count_up_from_one_and_other_keys_count_apart(nodes):
    counters = nodes()
    counts = [await counters.hit("a", window=WINDOW, now=NOW) for _ in range(3)]
    assert (counts, await counters.hit("b", window=WINDOW, now=NOW)) == ([1, 2, 3], 1)


async def test_a_hit_once_the_window_is_over_starts_a_new_count_at_one(nodes):
    counters = nodes()
    for _ in range(4):
        await counters.hit("a", window=WINDOW, now=NOW)
    almost = await counters.hit("a", window=WINDOW, now=NOW + timedelta(seconds=WINDOW - 1))
    over = await counters.hit("a", window=WINDOW, now=NOW + timedelta(seconds=WINDOW))
    after = await counters.hit("a", window=WINDOW, now=NOW + timedelta(seconds=WINDOW + 1))
    assert (almost, over, after) == (5, 1, 2)


async def test_fifty_concurrent_hits_from_two_nodes_get_each_count_from_one_to_fifty_once(nodes):
    first, second = nodes(), nodes()
    counts = await asyncio.gather(
        *(node.hit("shared", window=WINDOW, now=NOW) for node in [first, second] * 25)
    )
    assert sorted(counts) == list(range(1, 51))


async def test_taking_back_a_hit_undoes_it_for_every_node(nodes):
    first, second = nodes(), nodes()
    for _ in range(3):
        await first.hit("a", window=WINDOW, now=NOW)
    await second.take_back("a", at=NOW)
    assert await first.hit("a", window=WINDOW, now=NOW) == 3


async def test_a_hit_of_a_window_that_has_ended_is_not_taken_back_from_the_next_one(nodes):
    counters = nodes()
    await counters.hit("a", window=WINDOW, now=NOW)
    later = NOW + timedelta(seconds=WINDOW + 5)
    await counters.hit("a", window=WINDOW, now=later)
    await counters.take_back("a", at=NOW)
    assert await counters.hit("a", window=WINDOW, now=later) == 2


async def test_taking_back_never_counts_below_zero_or_creates_a_key(nodes):
    counters = nodes()
    await counters.take_back("never-hit", at=NOW)
    await counters.hit("a", window=WINDOW, now=NOW)
    await counters.take_back("a", at=NOW)
    await counters.take_back("a", at=NOW)
    assert (
        await counters.hit("a", window=WINDOW, now=NOW),
        await counters.hit("never-hit", window=WINDOW, now=NOW),
    ) == (1, 1)


async def test_a_sweep_forgets_only_keys_whose_window_started_before_the_cutoff(nodes):
    counters = nodes()
    await counters.hit("old", window=WINDOW, now=NOW - timedelta(hours=1))
    await counters.hit("recent", window=WINDOW, now=NOW - timedelta(minutes=5))
    await counters.sweep(before=NOW - timedelta(seconds=WINDOW))
    counts = (
        await counters.hit("old", window=7200, now=NOW),
        await counters.hit("recent", window=WINDOW, now=NOW),
    )
    # A database forgets the old key (its count starts again at 1 even in a 2-hour window);
    # Redis keys expire on their own instead, so there the count goes on.
    assert counts == ((2, 2) if isinstance(counters, RedisCounters) else (1, 2))


async def test_the_database_counters_unless_a_redis_url_is_given(tmp_path, tmp_path_factory):
    db = Database(testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp()))
    chosen = [build_counters(db, None), build_counters(db, "redis://127.0.0.1:1/0")]
    try:
        assert [type(c) for c in chosen] == [SqlCounters, RedisCounters]
    finally:
        for counters in chosen:
            await counters.close()
        await db.dispose()
