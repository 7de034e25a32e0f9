"""The hot endpoints' direct line to PostgreSQL: asyncpg connections, no SQLAlchemy per statement.

Token, introspection, revocation and GET /api/v1/me run a handful of tiny statements each.
Through SQLAlchemy's async layer every one of them costs ~160 µs of CPU, and a session ~290 µs
more; asyncpg's own ``fetchrow`` on the same connection costs ~60 µs (bench/RESULTS.md). So
these endpoints run the very same statements (``executor.Statement``, compiled once for
asyncpg) on a small pool of asyncpg connections of their own.

Two more things make the hot reads cheap under load:

- **Lookups are coalesced.** A read made outside a transaction (the client, the token, the
  code: every read the hot endpoints make before their first write) joins the lookups of the
  same statement that other requests are waiting for, and one ``= ANY($1)`` query answers them
  all (``Coalescer``). Every lookup is still a fresh read of the database made after its
  request arrived: nothing is cached between requests, so a revocation committed on any node
  is seen by the next lookup, as before.
- **A connection is taken only for writes.** A unit borrows a pooled connection at its first
  write and opens its transaction there. The reads before it are single statements at READ
  COMMITTED, which see the same inside or outside a transaction, and every decision that
  matters is re-checked by a conditional UPDATE inside it. The unit ends as every unit of
  work does (``storage.commit_policy``).
- **A grant's write is one statement.** Redeeming a code or rotating a refresh token (claim,
  guard the consent, save the new pair) is a single statement (``grant_writes``), atomic by
  itself, so it needs no BEGIN and COMMIT round trips around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from piksend.storage.commit_policy import settled
from piksend.storage.oauth.executor import BatchForm, Statement
from piksend.storage.oauth.store import SqlOAuthStore

MAX_BATCH = 256


def asyncpg_dsn(url: str) -> str:
    """``postgresql[+driver]://…`` as the plain libpq-style DSN asyncpg reads."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _affected(status: str) -> int:
    """The row count of a command tag such as ``UPDATE 1`` or ``INSERT 0 2``."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


class Coalescer:
    """Concurrent lookups of one statement, answered by one query per round.

    A lookup waits for the round in flight (if any) to finish, then goes out with every other
    lookup that arrived meanwhile, at most MAX_BATCH keys a query. With no concurrency a round
    holds one key and costs what a single query does.
    """

    def __init__(self, fast: FastPath, form: BatchForm) -> None:
        self.fast = fast
        self.form = form
        self.waiting: dict[Any, list[asyncio.Future]] = {}
        self.rounds: asyncio.Task | None = None

    async def load(self, key: Any):
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, []).append(future)
        if self.rounds is None:
            # The task first runs on the loop's next turn: lookups arriving in this turn join.
            self.rounds = asyncio.ensure_future(self._rounds())
        return await future

    async def _rounds(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, {}
                if len(batch) > MAX_BATCH:
                    keys = list(batch)
                    for key in keys[MAX_BATCH:]:
                        self.waiting[key] = batch.pop(key)
                await self._run(batch)
        finally:
            self.rounds = None

    async def _run(self, batch: dict[Any, list[asyncio.Future]]) -> None:
        try:
            rows = await self.fast.fetch(self.form.pg_sql, list(batch))
        except Exception as exc:
            for future in _pending(batch):
                future.set_exception(exc)
            return
        except BaseException:
            for future in _pending(batch):
                future.cancel()
            raise
        found = {row[self.form.column]: row for row in rows}
        for key, futures in batch.items():
            row = found.get(key)
            for future in futures:
                if not future.done():  # its request may have been cancelled meanwhile
                    future.set_result(row)


def _pending(batch: dict[Any, list[asyncio.Future]]):
    return [f for futures in batch.values() for f in futures if not f.done()]


class AsyncpgExecutor:
    """An Executor (and AtomicWriter) for one unit of work of a hot endpoint."""

    def __init__(self, fast: FastPath, *, transactional: bool) -> None:
        self.fast = fast
        self.transactional = transactional
        self.conn: asyncpg.Connection | None = None
        self.in_transaction = False

    async def _connection(self) -> asyncpg.Connection:
        if self.conn is None:
            self.conn = await self.fast.acquire()
        return self.conn

    async def _before_write(self) -> asyncpg.Connection:
        conn = await self._connection()
        if self.transactional and not self.in_transaction:
            await conn.execute("BEGIN")
            self.in_transaction = True
        return conn

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]):
        if self.conn is None and statement.batch is not None:
            return await self.fast.coalescer(statement.batch).load(params[statement.batch.param])
        conn = await self._connection()
        return await conn.fetchrow(statement.pg_sql, *statement.pg_args(params))

    async def atomic_row(self, statement: Statement, params: Mapping[str, Any]):
        # One statement is a transaction of its own: no BEGIN/COMMIT round trips around it
        # (inside a transaction already open, it simply joins it).
        conn = await self._connection()
        return await conn.fetchrow(statement.pg_sql, *statement.pg_args(params))

    async def rowcount(self, statement: Statement, params: Mapping[str, Any]) -> int:
        conn = await self._before_write()
        return _affected(await conn.execute(statement.pg_sql, *statement.pg_args(params)))

    async def executemany(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        conn = await self._before_write()
        # asyncpg pipelines the rows: one round trip for all of them.
        await conn.executemany(statement.pg_sql, [statement.pg_args(r) for r in rows])

    async def commit(self) -> None:
        await self._finish(commit=True)

    async def rollback(self) -> None:
        await self._finish(commit=False)

    async def _finish(self, *, commit: bool) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            if self.in_transaction:
                self.in_transaction = False
                await conn.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            await self.fast.release(conn)


async def _reset(conn: asyncpg.Connection) -> None:
    """On return to the pool: nothing to reset (the fast path sets no session state), but a
    unit interrupted mid-transaction (a cancelled request) must not lend out an open one."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class FastPath:
    """A per-process pool of asyncpg connections for the hot endpoints, opened on first use."""

    def __init__(self, url: str, *, size: int, connect_timeout: float = 60.0) -> None:
        self._dsn = asyncpg_dsn(url)
        self.size = size
        self.connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._coalescers: dict[int, Coalescer] = {}

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    # min_size=0: no background task re-opening a floor of connections,
                    # which while the database is down logs a traceback every few seconds;
                    # released connections stay pooled, and a request opens what it lacks.
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=0,
                        max_size=self.size,
                        reset=_reset,
                        timeout=self.connect_timeout,
                        server_settings={"application_name": "piksend"},
                    )
        return self._pool

    async def acquire(self) -> asyncpg.Connection:
        pool = self._pool or await self._get_pool()
        return await pool.acquire()

    async def release(self, conn: asyncpg.Connection) -> None:
        if self._pool is not None:
            await self._pool.release(conn)

    async def fetch(self, sql: str, *args: Any) -> list:
        pool = self._pool or await self._get_pool()
        return await pool.fetch(sql, *args)

    def coalescer(self, form: BatchForm) -> Coalescer:
        found = self._coalescers.get(id(form))
        if found is None:
            found = self._coalescers[id(form)] = Coalescer(self, form)
        return found

    @asynccontextmanager
    async def unit(self, *, write: bool) -> AsyncIterator[SqlOAuthStore]:
        executor = AsyncpgExecutor(self, transactional=write)
        async with settled(executor):
            yield SqlOAuthStore(executor)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
