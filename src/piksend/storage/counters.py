"""Fixed-window counters shared by every node: rows of the database, or keys in Redis.

A window starts at a key's first hit and lasts ``window`` seconds; the first hit after it
starts a new window at 1. ``hit`` is one atomic statement that returns the new count, so N
concurrent hits get the counts 1…N, each exactly once, on every node: a caller that compares
the count with its limit *before* doing the work admits at most the limit. Nothing here is
kept in process memory. Keys are stored as SHA-256 digests (an address or an e-mail address
never reaches a row or a Redis key).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from piksend.storage import tables as t
from piksend.storage.engine import Database


class Counters(Protocol):
    async def hit(self, key: str, *, window: int, now: datetime) -> int:
        """Count one hit on ``key`` in its current window; return the window's new count."""
        ...

    async def take_back(self, key: str, *, at: datetime) -> None:
        """Undo one hit made at ``at``, unless a window that started after it is current."""
        ...

    async def sweep(self, *, before: datetime) -> dict[str, int]:
        """Forget the keys whose window started before ``before``: one round, bounded."""
        ...

    async def close(self) -> None: ...


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SqlCounters:
    """The ``login_throttles`` table: one row per key (``failures`` holds the count)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._table = t.LoginThrottle.__table__
        self._insert = postgresql.insert if not db.is_sqlite else sqlite.insert

    async def hit(self, key: str, *, window: int, now: datetime) -> int:
        # One INSERT … ON CONFLICT DO UPDATE … RETURNING: the row lock it takes makes
        # concurrent hits queue on the row, never read the same count (no read-then-write).
        table = self._table
        over = table.c.window_started_at <= now - timedelta(seconds=window)
        statement = (
            self._insert(table)
            .values(key=_digest(key), failures=1, window_started_at=now)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "failures": case((over, 1), else_=table.c.failures + 1),
                    "window_started_at": case(
                        (over, literal(now, t.UTCDateTime())), else_=table.c.window_started_at
                    ),
                },
            )
            .returning(table.c.failures)
        )
        # Its own short transaction, committed at once: the count must hold for every node
        # even when what follows fails, and no lock is kept while the caller does the work.
        async with self._db.unit_of_work() as session:
            return int((await session.execute(statement)).scalar_one())

    async def take_back(self, key: str, *, at: datetime) -> None:
        table = self._table
        statement = (
            update(table)
            .where(
                table.c.key == _digest(key),
                table.c.window_started_at <= at,
                table.c.failures > 0,
            )
            .values(failures=table.c.failures - 1)
        )
        async with self._db.unit_of_work() as session:
            await session.execute(statement)

    async def sweep(
        self, *, before: datetime, batch: int = 1000, max_batches: int = 50
    ) -> dict[str, int]:
        # A row whose window started before every window in use ended is a count no hit reads
        # again (its next hit starts at 1): deleting it, even during that hit, changes nothing.
        table = self._table
        total = 0
        for _ in range(max_batches):
            doomed = select(table.c.key).where(table.c.window_started_at < before).limit(batch)
            async with self._db.unit_of_work() as session:
                connection = await session.connection()
                result = await connection.execute(
                    delete(table).where(table.c.key.in_(doomed.scalar_subquery()))
                )
            total += result.rowcount
            if result.rowcount < batch:
                break
        return {"login_throttles": total}

    async def close(self) -> None:
        """The database is the app's to dispose of."""


# Each script runs atomically on the Redis server: the read and the write of one hit are
# never interleaved with another client's.
_HIT = """
local start = redis.call('HGET', KEYS[1], 's')
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if (not start) or tonumber(start) <= now - window then
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', 1)
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return 1
end
return redis.call('HINCRBY', KEYS[1], 'n', 1)
"""

_TAKE_BACK = """
local start = redis.call('HGET', KEYS[1], 's')
if start and tonumber(start) <= tonumber(ARGV[1]) then
  if tonumber(redis.call('HGET', KEYS[1], 'n')) > 0 then
    redis.call('HINCRBY', KEYS[1], 'n', -1)
  end
end
return 0
"""


class RedisCounters:
    """One hash per key (``s``: the window's start, ``n``: the count), expiring with its
    window. The window is measured on the server's clock (``now``), like the database's."""

    def __init__(self, url: str, *, prefix: str = "piksend:counter:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT)
        self._take_back = self._redis.register_script(_TAKE_BACK)

    def _key(self, key: str) -> str:
        return self._prefix + _digest(key)

    async def hit(self, key: str, *, window: int, now: datetime) -> int:
        count = await self._hit(keys=[self._key(key)], args=[repr(now.timestamp()), window])
        return int(count)

    async def take_back(self, key: str, *, at: datetime) -> None:
        await self._take_back(keys=[self._key(key)], args=[repr(at.timestamp())])

    async def sweep(self, *, before: datetime) -> dict[str, int]:
        """Nothing to do: each key expires with its window."""
        return {}

    async def close(self) -> None:
        await self._redis.aclose()


def build_counters(db: Database, redis_url: str | None) -> Counters:
    """Redis when ``PIKSEND_REDIS_URL`` is set, else the database every node already shares."""
    return RedisCounters(redis_url) if redis_url else SqlCounters(db)
