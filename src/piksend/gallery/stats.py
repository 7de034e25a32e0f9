"""View counting and statistics: one row per gallery per UTC day, bumped by an UPSERT.

An UPSERT (``INSERT … ON CONFLICT DO UPDATE SET n = n + 1``) is one statement, cheap and
correct under concurrency on SQLite and PostgreSQL alike: no read-then-write gap loses a view.

A view counts once per visitor per UTC day (issue 15, item 4): ``count_once`` first inserts
the visitor's digest — HMAC-SHA-256 (RFC 2104) of what was viewed, the client's address and
its user agent, keyed by a salt derived from the secret key and the day — with ``ON CONFLICT
DO NOTHING``; only the insert that wins counts. The address and user agent are never stored,
and once the day is over its salt is used no more and ``trim_visitors`` deletes its digests.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.errors import DomainError
from piksend.storage.engine import Database
from piksend.storage.tables import gallery as g

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30


class Counter(StrEnum):
    GALLERY_VIEW = "gallery_views"
    IMAGE_VIEW = "image_views"
    DOWNLOAD = "downloads"


class InvalidRange(DomainError):
    status = 400
    code = "invalid_request"


async def count(session: AsyncSession, *, gallery_id: str, counter: Counter, day: date) -> None:
    table = g.GalleryDailyStats.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"gallery_id": gallery_id, "day": day, **{c.value: 0 for c in Counter}}
    values[counter.value] = 1
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.gallery_id, table.c.day],
        set_={counter.value: table.c[counter.value] + 1},
    )
    await session.execute(statement)


@dataclass(frozen=True)
class Visitor:
    """Who is viewing, as the web layer sees it; only ever hashed (see the module)."""

    address: str
    user_agent: str


def visitor_digest(*, secret_key: str, day: date, viewed: str, visitor: Visitor) -> str:
    """The keyed, day-salted digest of one visitor viewing ``viewed`` on ``day``."""
    salt = hmac.new(secret_key.encode(), f"piksend views {day.isoformat()}".encode(), "sha256")
    message = "\x00".join((viewed, visitor.address, visitor.user_agent)).encode()
    return hmac.new(salt.digest(), message, hashlib.sha256).hexdigest()


async def count_once(
    session: AsyncSession,
    *,
    gallery_id: str,
    counter: Counter,
    viewed: str,
    visitor: Visitor,
    secret_key: str,
    day: date,
) -> bool:
    """Count the view unless this visitor was counted for ``viewed`` today; True if counted."""
    digest = visitor_digest(
        secret_key=secret_key, day=day, viewed=f"{counter}:{viewed}", visitor=visitor
    )
    table = g.GalleryVisitor.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    first = await session.execute(
        insert(table)
        .values(digest=digest, day=day)
        .on_conflict_do_nothing(index_elements=[table.c.digest])
        .returning(table.c.digest)
    )
    if first.scalar_one_or_none() is None:
        return False
    await count(session, gallery_id=gallery_id, counter=counter, day=day)
    return True


async def trim_visitors(db: Database, *, today: date, batch: int = 1000) -> dict[str, int]:
    """Delete the digests of the days before ``today``, in bounded batches."""
    table = g.GalleryVisitor.__table__
    total = 0
    for _ in range(50):
        doomed = select(table.c.digest).where(table.c.day < today).limit(batch)
        async with db.unit_of_work() as session:
            connection = await session.connection()
            result = await connection.execute(
                delete(table).where(table.c.digest.in_(doomed.scalar_subquery()))
            )
        total += result.rowcount
        if result.rowcount < batch:
            break
    return {"gallery_visitors": total}


@dataclass(frozen=True)
class Counts:
    gallery_views: int = 0
    image_views: int = 0
    downloads: int = 0


@dataclass(frozen=True)
class GalleryCounts:
    gallery_id: str
    title: str
    counts: Counts


@dataclass(frozen=True)
class DayCounts:
    day: date
    counts: Counts


@dataclass(frozen=True)
class Stats:
    start: date
    end: date
    totals: Counts
    galleries: list[GalleryCounts]
    daily: list[DayCounts]


def date_range(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    end = end or today
    if start is None:
        try:
            start = end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        except OverflowError:  # the default start would fall before 0001-01-01
            raise InvalidRange(
                f"The range must start on or after {date.min.isoformat()}", field="start"
            ) from None
    if start > end:
        raise InvalidRange("start must not be after end", field="start")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRange(f"The range must be at most {MAX_RANGE_DAYS} days", field="start")
    return start, end


async def get_stats(session: AsyncSession, *, owner_id: str, start: date, end: date) -> Stats:
    """Totals, per-gallery counts (galleries with activity in the range, busiest first) and a
    daily series with every day of the range, zeros included."""
    s = g.GalleryDailyStats
    sums = (
        func.coalesce(func.sum(s.gallery_views), 0),
        func.coalesce(func.sum(s.image_views), 0),
        func.coalesce(func.sum(s.downloads), 0),
    )
    in_range = (g.Gallery.owner_id == owner_id, s.day >= start, s.day <= end)
    per_gallery = (
        await session.execute(
            select(g.Gallery.id, g.Gallery.title, *sums)
            .join(s, s.gallery_id == g.Gallery.id)
            .where(*in_range)
            .group_by(g.Gallery.id, g.Gallery.title)
        )
    ).all()
    per_day = (
        await session.execute(
            select(s.day, *sums)
            .join(g.Gallery, s.gallery_id == g.Gallery.id)
            .where(*in_range)
            .group_by(s.day)
        )
    ).all()
    galleries = [
        GalleryCounts(gid, title, Counts(int(a), int(b), int(c)))
        for gid, title, a, b, c in per_gallery
    ]
    galleries.sort(
        key=lambda x: (
            -(x.counts.gallery_views + x.counts.image_views + x.counts.downloads),
            x.gallery_id,
        )
    )
    by_day = {day: Counts(int(a), int(b), int(c)) for day, a, b, c in per_day}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    daily = [DayCounts(d, by_day.get(d, Counts())) for d in days]
    totals = Counts(
        sum(x.counts.gallery_views for x in galleries),
        sum(x.counts.image_views for x in galleries),
        sum(x.counts.downloads for x in galleries),
    )
    return Stats(start, end, totals, galleries, daily)
