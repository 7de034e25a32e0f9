"""The hot endpoints' SQLite executor: plain sqlite3 on the event loop, writers serialised by a
lock shared across processes, bounded waits that end as SQLITE_BUSY (503), never a loop stall."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from piksend.oauth.types import TokenKind, TokenRecord
from piksend.storage import tables as t
from piksend.storage.engine import Database
from piksend.storage.oauth.sqlite_fast import lock_path
from piksend.storage.unavailable import unavailable_reason
from tests.support import db as testdb

NOW = datetime.now(UTC).replace(microsecond=0)

# Another process holding the fast path's lock file (as a second `serve` worker does mid-write).
HOLD_FLOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""
# A writer outside the fast path holding SQLite's own write lock.
HOLD_SQLITE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


@pytest.fixture
async def db(tmp_path, tmp_path_factory):
    database = Database(
        testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp()), busy_timeout=0.5
    )
    await testdb.add_user_and_client(database, NOW)
    async with database.unit_of_work() as session:
        session.add(
            t.Consent(id="cns_1", user_id="usr_a", client_id="cli_1", scope="x", created_at=NOW)
        )
    assert database.lite is not None
    yield database
    await database.dispose()


def token(digest: str) -> TokenRecord:
    return TokenRecord(
        digest=digest,
        kind=TokenKind.ACCESS,
        consent_id="cns_1",
        client_id="cli_1",
        user_id="usr_a",
        scope=("profile:read",),
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )


def hold(script: str, path: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", script, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


async def save(db: Database, digest: str) -> None:
    async with db.oauth_unit(write=True) as store:
        await store.save_tokens(token(digest))


async def found(db: Database, digest: str) -> bool:
    async with db.oauth_unit(write=False) as store:
        return await store.find_token(digest) is not None


async def test_a_token_written_on_the_fast_path_reads_back_the_same_through_a_session(db):
    await save(db, "a" * 64)
    async with db.reader() as session:
        row = await session.get(t.Token, "a" * 64)
    assert row is not None
    assert (row.issued_at, row.expires_at, row.scope) == (
        NOW,
        NOW + timedelta(hours=1),
        "profile:read",
    )
    async with db.oauth_unit(write=False) as store:
        assert await store.find_token("a" * 64) == replace(token("a" * 64), granted_at=NOW)


async def test_a_lock_held_by_another_process_past_the_busy_timeout_fails_as_sqlite_busy(db):
    holder = hold(HOLD_FLOCK, lock_path(db.lite.path))
    try:
        with pytest.raises(sqlite3.OperationalError) as refused:
            await save(db, "b" * 64)
        assert await found(db, "b" * 64) is False  # reads go on meanwhile
    finally:
        holder.communicate("", timeout=10)
    assert unavailable_reason(refused.value) == "sqlite SQLITE_BUSY"
    await save(db, "b" * 64)  # the lock released, the next write goes through
    assert await found(db, "b" * 64) is True


async def test_the_event_loop_runs_while_a_writer_waits_for_another_process(db):
    holder = hold(HOLD_FLOCK, lock_path(db.lite.path))
    db.lite.busy_timeout = 30.0
    try:
        writer = asyncio.create_task(save(db, "c" * 64))
        await asyncio.sleep(0)
        # While the writer waits, reads on the same loop are answered: it does not block it.
        assert await found(db, "a" * 64) is False
        assert not writer.done()
    finally:
        holder.communicate("", timeout=10)
    await asyncio.wait_for(writer, timeout=30)  # woken by the release, not by a timeout
    assert await found(db, "c" * 64) is True


async def test_a_sqlite_write_lock_held_outside_the_fast_path_is_waited_for_off_the_loop(db):
    holder = hold(HOLD_SQLITE, db.lite.path)
    try:
        with pytest.raises(sqlite3.OperationalError) as refused:
            await save(db, "d" * 64)
        assert await found(db, "d" * 64) is False
    finally:
        holder.communicate("", timeout=10)
    assert unavailable_reason(refused.value) == "sqlite SQLITE_BUSY"
    await save(db, "d" * 64)
    assert await found(db, "d" * 64) is True


async def test_concurrent_writers_of_one_process_are_serialised_and_all_commit(db):
    await asyncio.gather(*(save(db, f"{i:064x}") for i in range(50)))
    found_all = [await found(db, f"{i:064x}") for i in range(50)]
    assert found_all == [True] * 50


async def test_a_failed_unit_leaves_nothing_and_releases_the_locks(db):
    with pytest.raises(RuntimeError):
        async with db.oauth_unit(write=True) as store:
            await store.save_tokens(token("e" * 64))
            raise RuntimeError("a bug after the write")
    assert await found(db, "e" * 64) is False
    await save(db, "e" * 64)  # not left locked
    assert await found(db, "e" * 64) is True
