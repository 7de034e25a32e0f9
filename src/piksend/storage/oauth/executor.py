"""What the oauth stores run, and on what: statements compiled once for both drivers, the
executor contract, and the executor on a SQLAlchemy session.

Every statement is built once, with bind parameters, and runs through an *executor*: on a
SQLAlchemy session (SQLite, and every page of the site), or straight on an asyncpg connection
for the hot endpoints on PostgreSQL (``fastpath``), which skips SQLAlchemy's per-statement
machinery: the same statements, compiled once for asyncpg.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Column, CursorResult, Select, Text, TextClause, UpdateBase, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_PG = asyncpg_dialect.dialect()


class BatchForm:
    """The same SELECT for many keys at once (``column = ANY($1)``), so the fast path can
    answer concurrent lookups of one statement with one query (``fastpath.Coalescer``)."""

    def __init__(self, query: Select[Any], column: Column[Any], param: str) -> None:
        # text[], not varchar(n)[]: a cast to varchar(n) would silently cut a longer key.
        keyed = query.where(column == any_(bindparam("keys", type_=ARRAY(Text()))))
        self.pg_sql: str = keyed.compile(dialect=_PG).string
        self.param = param  # the single statement's parameter holding the key
        self.column = column.key  # the result column the rows are matched back by


class Statement:
    """A Core statement, plus its asyncpg form compiled once (``$n`` placeholders)."""

    def __init__(
        self, core: Select[Any] | UpdateBase | TextClause, *, batch: BatchForm | None = None
    ) -> None:
        self.core = core
        self.batch = batch
        compiled = core.compile(dialect=_PG)
        self.pg_sql: str = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # Literal values the statement carries itself (such as kind = 'refresh').
        self._fixed: dict[str, Any] = {
            name: value for name, value in compiled.params.items() if value is not None
        }

    def pg_args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
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
    is open: a grant's whole write can then be one statement (``grant_writes``). Executors
    without it run a grant's write as its steps inside their transaction."""

    async def atomic_row(self, statement: Statement, params: Mapping[str, Any]) -> Any: ...


class SessionExecutor:
    """Statements on an AsyncSession's own connection and transaction (Core, not the ORM)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._conn: AsyncConnection | None = None

    async def _execute(self, statement: Statement, params: Any) -> CursorResult[Any]:
        if self._conn is None:
            self._conn = await self.session.connection()
        return await self._conn.execute(statement.core, params)

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        return (await self._execute(statement, params)).mappings().first()

    async def rowcount(self, statement: Statement, params: Mapping[str, Any]) -> int:
        return (await self._execute(statement, params)).rowcount

    async def executemany(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        await self._execute(statement, list(rows))
