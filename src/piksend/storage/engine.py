"""The database: URL handling, engine creation and the per-request unit of work."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from piksend.storage.commit_policy import settled
from piksend.storage.oauth import FastPath, SqlOAuthStore
from piksend.storage.oauth.sqlite_fast import SqliteFastPath


def _driver_url(url: str, *, asynchronous: bool) -> str:
    """Users write plain ``sqlite:///…`` / ``postgresql://…``; the driver is ours to pick."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        driver = "aiosqlite" if asynchronous else "pysqlite"
    elif backend == "postgresql":
        # asyncpg serves requests (its protocol is compiled; measured ~20-30% less CPU per
        # introspection than psycopg's async mode, bench/RESULTS.md); psycopg runs migrations.
        driver = "asyncpg" if asynchronous else "psycopg"
    else:
        raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)


def async_url(url: str) -> str:
    return _driver_url(url, asynchronous=True)


def sync_url(url: str) -> str:
    return _driver_url(url, asynchronous=False)


DEFAULT_SQLITE_BUSY_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to open a PostgreSQL connection (asyncpg's own is 60)


def create_private_file(path: str | None) -> None:
    """Create the SQLite file for its owner only (0600) before SQLite does with the umask's
    mode (0644 by default; issue 17, item 8); its -wal and -shm files take the same mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # it exists, or cannot be made: SQLite opens it or says why
        return


def configure_sqlite(engine, *, busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT) -> None:
    """WAL for concurrent readers, foreign keys on, and a bounded busy wait: a writer waits
    ``busy_timeout`` seconds for a write lock held elsewhere, then fails with SQLITE_BUSY,
    which the web layer answers 503 (``storage.unavailable``) instead of hanging."""
    busy_ms = max(0, round(busy_timeout * 1000))
    create_private_file(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.url = url
        target = async_url(url)
        kwargs: dict = {"pool_pre_ping": False}
        self.fast: FastPath | None = None
        self.lite: SqliteFastPath | None = None
        if target.startswith("postgresql"):
            # The connection budget is shared: half for the hot endpoints' asyncpg pool
            # (storage/oauth/fastpath.py), half for SQLAlchemy's, which serves everything else.
            fast_size = max(1, pool_size - pool_size // 2)
            self.fast = FastPath(url, size=fast_size, connect_timeout=connect_timeout)
            # A fixed pool, no overflow: under a burst, requests queue for a connection instead
            # of opening (and, on return, closing) extra ones, each a new PostgreSQL backend.
            kwargs.update(pool_size=max(1, pool_size // 2), max_overflow=0, pool_timeout=30)
            # A server that accepts the connection but never answers (a partition, a hung
            # host) costs a request this long, then TimeoutError: unavailable, 503.
            kwargs["connect_args"] = {"timeout": connect_timeout}
        else:
            # SQLite has one writer; more connections (each an aiosqlite thread) buy nothing.
            # Waiting for a connection is bounded too: while another process holds the write
            # lock every connection is busy for ``busy_timeout``, and the queue must not grow
            # into minutes of silence (issue 10, item 3).
            size = min(pool_size, 10)
            kwargs.update(
                pool_size=size, max_overflow=size, pool_timeout=max(10.0, 3 * busy_timeout)
            )
        # hide_parameters: a logged database error must never carry a secret or a state value.
        self.engine: AsyncEngine = create_async_engine(target, hide_parameters=True, **kwargs)
        if self.is_sqlite:
            configure_sqlite(self.engine.sync_engine, busy_timeout=busy_timeout)
            path = self.engine.url.database
            if path and path != ":memory:" and not path.startswith("file:"):
                # The hot endpoints on plain sqlite3, on the event loop (oauth/sqlite_fast.py).
                self.lite = SqliteFastPath(path, busy_timeout=busy_timeout)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Read-only requests (introspection, bearer GETs) need no transaction: on PostgreSQL
        # autocommit saves the BEGIN and COMMIT round trips; SQLite reads never BEGIN anyway.
        reader = self.engine
        if not self.is_sqlite:
            reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read_sessions = async_sessionmaker(reader, expire_on_commit=False, autoflush=False)

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction, ended by the commit policy (``commit_policy.settled``)."""
        session = self.sessions()
        try:
            async with settled(session):
                yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A unit of work for requests that only read: nothing is committed."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def oauth_unit(self, *, write: bool) -> AsyncIterator[SqlOAuthStore]:
        """The oauth stores for one request of a hot endpoint (token, introspection,
        revocation, bearer checks): straight on asyncpg on PostgreSQL, on the ``sqlite3``
        module on a SQLite file, else on a session. ``write=False`` promises reads only (no
        transaction is opened for them)."""
        if self.fast is not None:
            async with self.fast.unit(write=write) as store:
                yield store
            return
        if self.lite is not None:
            async with self.lite.unit() as store:
                yield store
            return
        async with self.unit_of_work() if write else self.reader() as session:
            yield SqlOAuthStore(session)

    async def dispose(self) -> None:
        if self.fast is not None:
            await self.fast.close()
        if self.lite is not None:
            self.lite.close()
        await self.engine.dispose()
