"""The hot endpoints on SQLite: the ``sqlite3`` module on the event loop, no thread per statement.

Through SQLAlchemy's async layer on aiosqlite every statement is a hop to a thread and back,
and every connection that finds the write lock taken sleeps in SQLite's busy handler (1, 2, 5,
… 100 ms naps): under load that made p99 of the write paths a second (issue 11, item 3). Here
the very same statements (``executor.Statement``, compiled once for SQLite) run on two plain
``sqlite3`` connections per process, on the event loop itself: an indexed read is a few
microseconds, less than the hop it replaces.

- **Reads** go to the reader connection, each one its own snapshot of what is committed
  (autocommit, WAL: a reader never waits for a writer), so a revocation committed by any
  process is seen by the next read.
- **Writes** of a unit run in one ``BEGIN IMMEDIATE`` transaction on the one writer connection,
  opened at the unit's first write; reads after it see the unit's own writes, and every
  decision that matters is re-checked by a conditional UPDATE inside it, as on PostgreSQL.
- **Writers queue, never sleep.** Write transactions are serialised in the process by an
  asyncio lock and across the processes of ``serve --workers N`` (and anything else using the
  fast path) by ``flock`` on a lock file beside the database, taken in that order, then
  ``BEGIN IMMEDIATE``: the lock order is fixed. A free lock costs a system call on the loop; a
  lock held by another process is waited for in a thread (one hop per write transaction, woken
  the moment it is released). SQLite's own busy handler is off on the loop; only a write lock
  held by a connection outside the fast path (a page, a maintenance round, another program)
  is waited for with it, in a thread. Every wait is bounded by the busy timeout, past which
  the request fails as SQLite does (``database is locked``: 503, ``storage.unavailable``).
- **Checkpoints do not stall writers.** The writer never checkpoints at commit
  (``wal_autocheckpoint=0``); every ``CHECKPOINT_EVERY`` commits a passive checkpoint, which
  takes no lock a writer needs, runs on a thread of its own.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Any

from piksend.storage.commit_policy import settled
from piksend.storage.oauth.executor import Statement
from piksend.storage.oauth.store import SqlOAuthStore

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 256  # commits between passive checkpoints (~1,000 WAL pages, SQLite's default)
LOCK_WAITERS = 4  # threads that may wait at once for the lock file held by another process


def locked() -> sqlite3.OperationalError:
    """The error SQLite itself raises when its busy timeout runs out (SQLITE_BUSY)."""
    return sqlite3.OperationalError("database is locked")


def lock_path(database: str) -> str:
    return f"{database}-writer.lock"


def _close(fd: int) -> None:
    with suppress(OSError):
        os.close(fd)  # the descriptor's flock goes with it


class WriterLock:
    """The write lock every process shares for one database: ``flock`` on a file beside it.

    A lock given up while its thread still waits (a timeout, a cancelled request) must not be
    left held: each wait uses a descriptor of its own, closed as soon as its thread returns.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._held: int | None = None
        self._threads = ThreadPoolExecutor(LOCK_WAITERS, thread_name_prefix="piksend-lock")

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    async def acquire(self, timeout: float) -> None:
        if self._fd is None:
            self._fd = self._open()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            self._held = self._fd
            return
        fd = self._open()
        waiting = asyncio.get_running_loop().run_in_executor(
            self._threads, fcntl.flock, fd, fcntl.LOCK_EX
        )
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(waiting)
        except TimeoutError:
            waiting.add_done_callback(lambda _: _close(fd))
            raise locked() from None
        except BaseException:
            waiting.add_done_callback(lambda _: _close(fd))
            raise
        self._held = fd

    def release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        if held == self._fd:
            fcntl.flock(held, fcntl.LOCK_UN)
        else:
            _close(held)

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            _close(self._fd)
            self._fd = None
        self._threads.shutdown(wait=False, cancel_futures=True)


def _row(conn: sqlite3.Connection, statement: Statement, params: Mapping[str, Any]) -> Any:
    form = statement.lite
    cursor = conn.execute(form.sql, form.args(params))
    try:
        values = cursor.fetchone()
    finally:
        cursor.close()  # the statement is reset: no read snapshot stays open
    return form.row(values) if values is not None else None


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc)


class SqliteExecutor:
    """An Executor for one unit of work of a hot endpoint (``SqliteFastPath.unit``)."""

    def __init__(self, fast: SqliteFastPath) -> None:
        self.fast = fast
        self.writing = False

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        if self.writing:
            return _row(self.fast.writer, statement, params)
        return await self.fast.read(statement, params)

    async def rowcount(self, statement: Statement, params: Mapping[str, Any]) -> int:
        conn = await self._before_write()
        form = statement.lite
        return conn.execute(form.sql, form.args(params)).rowcount

    async def executemany(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        conn = await self._before_write()
        form = statement.lite
        conn.executemany(form.sql, [form.args(r) for r in rows])

    async def _before_write(self) -> sqlite3.Connection:
        if not self.writing:
            await self.fast.begin()
            self.writing = True
        return self.fast.writer

    async def commit(self) -> None:
        if self.writing:
            self.writing = False
            self.fast.end(commit=True)

    async def rollback(self) -> None:
        if self.writing:
            self.writing = False
            self.fast.end(commit=False)


class SqliteFastPath:
    """One process's connections to one SQLite file for the hot endpoints, opened on first use."""

    def __init__(self, path: str, *, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.writer_lock = WriterLock(lock_path(path))
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="piksend-checkpoint")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpointing = False  # set on the loop, cleared by the checkpoint's thread
        self._commits = 0

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        try:
            conn.execute(f"PRAGMA busy_timeout={max(0, round(self.busy_timeout * 1000)):d}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # CHECKPOINT_EVERY, off the loop
            conn.execute("PRAGMA busy_timeout=0")  # never a sleeping busy handler on the loop
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def writer(self) -> sqlite3.Connection:
        assert self._writer is not None, "the writer is opened by begin()"
        return self._writer

    async def _open(self) -> None:
        """Both connections, opened in a thread once (opening may wait on the file)."""
        if self._reader is None or self._writer is None:
            reader, writer = await asyncio.to_thread(lambda: (self._connect(), self._connect()))
            if self._reader is None and self._writer is None:
                self._reader, self._writer = reader, writer
            else:  # another request opened them meanwhile
                reader.close()
                writer.close()

    async def read(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        if self._reader is None:
            await self._open()
        assert self._reader is not None
        try:
            return _row(self._reader, statement, params)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
        # A WAL reader is refused only in rare moments (the WAL index being rebuilt after a
        # crash): read once more in a thread, on a connection that may wait.
        return await asyncio.to_thread(self._read_patiently, statement, params)

    def _read_patiently(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            return _row(conn, statement, params)
        finally:
            conn.close()

    def _process_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def begin(self) -> None:
        """Take the process's lock, then the processes' lock, then SQLite's write lock, within
        the busy timeout all told."""
        if self._writer is None:
            await self._open()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_timeout
        lock = self._process_lock()
        if lock.locked():
            try:
                async with asyncio.timeout_at(deadline):
                    await lock.acquire()
            except TimeoutError:
                raise locked() from None
        else:
            await lock.acquire()  # free: taken without a pause
        try:
            await self.writer_lock.acquire(max(0.0, deadline - loop.time()))
        except BaseException:
            lock.release()
            raise
        try:
            self.writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                self._unlock()
                raise
        else:
            return
        await self._begin_in_thread(max(0.0, deadline - loop.time()))

    async def _begin_in_thread(self, timeout: float) -> None:
        """SQLite's write lock is held outside the fast path: wait for it with SQLite's busy
        handler, in a thread, while this process's writers queue on the locks above."""
        begun = asyncio.get_running_loop().run_in_executor(None, self._begin_patiently, timeout)
        try:
            await asyncio.shield(begun)
        except BaseException:
            if begun.done():  # it failed (the busy timeout ran out): nothing was begun
                self._unlock()
            else:  # this request was cancelled: end what the thread begins, then unlock
                begun.add_done_callback(lambda _: self._abandon())
            raise

    def _begin_patiently(self, timeout: float) -> None:
        writer = self.writer
        writer.execute(f"PRAGMA busy_timeout={max(0, round(timeout * 1000)):d}")
        try:
            writer.execute("BEGIN IMMEDIATE")
        finally:
            writer.execute("PRAGMA busy_timeout=0")

    def _abandon(self) -> None:
        if self._writer is not None and self._writer.in_transaction:
            with suppress(sqlite3.Error):
                self._writer.execute("ROLLBACK")
        self._unlock()

    def _unlock(self) -> None:
        try:
            self.writer_lock.release()
        finally:
            if self._lock is not None and self._lock.locked():
                self._lock.release()

    def end(self, *, commit: bool) -> None:
        writer = self.writer
        try:
            if commit:
                writer.execute("COMMIT")
            else:
                writer.execute("ROLLBACK")
        finally:
            if writer.in_transaction:  # a COMMIT that failed (a full disk) leaves it open
                with suppress(sqlite3.Error):
                    writer.execute("ROLLBACK")
            self._unlock()
        if commit:
            self._committed()

    def _committed(self) -> None:
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and not self._checkpointing:
            self._commits = 0
            self._checkpointing = True
            self._checkpointer.submit(self._passive_checkpoint)

    def _passive_checkpoint(self) -> None:
        """Copy the WAL back into the database as far as readers allow, without waiting for
        or blocking any writer (SQLite's PASSIVE mode); what it cannot copy waits for the next."""
        try:
            if self._checkpoint_conn is None:
                self._checkpoint_conn = self._connect()
            self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # retried at the next round; nothing is lost meanwhile
            log.warning("SQLite passive checkpoint failed: %s", type(exc).__name__)
        finally:
            self._checkpointing = False

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[SqlOAuthStore]:
        executor = SqliteExecutor(self)
        async with settled(executor):
            yield SqlOAuthStore(executor)

    def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                with suppress(sqlite3.Error):
                    conn.close()
        self._reader = self._writer = None
        self.writer_lock.close()
        self._checkpointer.shutdown(wait=True)
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None
