"""What the oauth stores run, and on what: statements compiled once for each driver, the
executor contract, and the executor on a SQLAlchemy session.

Every statement is built once, with bind parameters, and runs through an *executor*: on a
SQLAlchemy session (SQLite, and every page of the site), or straight on an asyncpg connection
for the hot endpoints on PostgreSQL (``fastpath``), which skips SQLAlchemy's per-statement
machinery: the same statements, compiled once for asyncpg; and on SQLite straight on the
``sqlite3`` module (``sqlite_fast``), the same statements compiled once for it (``SqliteForm``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Column, CursorResult, Select, Text, TextClause, UpdateBase, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.dialects.sqlite import pysqlite as pysqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_PG = asyncpg_dialect.dialect()
_LITE = pysqlite_dialect.dialect(paramstyle="qmark")


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

    @cached_property
    def lite(self) -> SqliteForm:
        """The statement for the ``sqlite3`` module, compiled on first use, once."""
        return SqliteForm(self.core)


_Processor = Callable[[Any], Any] | None
_MISSING = object()  # a parameter the statement does not fix: the caller must give it


class SqliteForm:
    """A statement compiled for SQLite (``?`` placeholders) with the column types' own
    conversions, as SQLAlchemy would apply them: UTC datetimes as SQLite's text, JSON."""

    def __init__(self, core: Select[Any] | UpdateBase | TextClause) -> None:
        compiled = core.compile(dialect=_LITE)
        self.sql: str = compiled.string
        names = tuple(compiled.positiontup or ())
        fixed = {name: value for name, value in compiled.params.items() if value is not None}
        binds = compiled.binds
        self._binds: tuple[tuple[str, Any, _Processor], ...] = tuple(
            (n, fixed.get(n, _MISSING), binds[n].type.dialect_impl(_LITE).bind_processor(_LITE))
            for n in names
        )
        columns = getattr(core, "selected_columns", None)
        self.returns_rows = columns is not None
        # Result names and conversions, in the statement's column order.
        self.columns: tuple[str, ...] = tuple(columns.keys()) if columns is not None else ()
        self._results: tuple[_Processor, ...] = (
            tuple(c.type.dialect_impl(_LITE).result_processor(_LITE, None) for c in columns)
            if columns is not None
            else ()
        )
        self._converts = any(p is not None for p in self._results)

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, fixed, process in self._binds:
            value = params[name] if name in params or fixed is _MISSING else fixed
            out.append(process(value) if process is not None else value)
        return tuple(out)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        """A result row as a mapping by column name, each value converted by its type."""
        if self._converts:
            pairs = zip(self._results, values, strict=True)
            values = [v if p is None or v is None else p(v) for p, v in pairs]
        return dict(zip(self.columns, values, strict=True))


class Executor(Protocol):
    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        """The first row as a mapping (``row["column"]``), or None."""

    async def rowcount(self, statement: Statement, params: Mapping[str, Any]) -> int: ...

    async def executemany(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row; no rows, nothing runs."""


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
        if rows:  # no rows, nothing to run: as asyncpg's and sqlite3's executemany
            await self._execute(statement, list(rows))
