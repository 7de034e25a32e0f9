"""GET /api/v1/stats: views, image views and downloads of the user's galleries over a range."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.requests import Request

from piksend.errors import DomainError
from piksend.gallery import stats
from piksend.web.context import ctx
from piksend.web.routes.api_v1.common import ApiCall, operation, scoped

router = APIRouter(tags=["stats"])


class CountsOut(BaseModel):
    gallery_views: int
    image_views: int
    downloads: int


class GalleryStatsOut(CountsOut):
    gallery_id: str
    title: str


class DayStatsOut(CountsOut):
    date: date


class StatsOut(BaseModel):
    start: date
    end: date
    totals: CountsOut
    galleries: list[GalleryStatsOut] = Field(
        description="Galleries with any activity in the range, busiest first"
    )
    daily: list[DayStatsOut] = Field(description="Every day of the range, oldest first")


DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _day(value: str | None, name: str) -> date | None:
    """Only an ISO date: the lax parsing that would read ``0`` as 1970-01-01 is refused."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(f"{name} must be a date, YYYY-MM-DD", field=name) from None


def _counts(c: stats.Counts) -> dict[str, int]:
    return {
        "gallery_views": c.gallery_views,
        "image_views": c.image_views,
        "downloads": c.downloads,
    }


@operation(
    router.get,
    "/stats",
    scoped("stats:read"),
    summary="Views, image views and downloads of the user's galleries",
)
async def get_stats(
    request: Request,
    call: ApiCall,
    start: Annotated[
        str | None,
        Query(
            pattern=DATE_PATTERN,
            description="First day (UTC, YYYY-MM-DD); default 29 days before end",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            pattern=DATE_PATTERN,
            description="Last day (UTC, YYYY-MM-DD); default today",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
) -> StatsOut:
    first, last = stats.date_range(
        _day(start, "start"), _day(end, "end"), today=ctx(request).now().date()
    )
    result = await stats.get_stats(call.session, owner_id=call.user_id, start=first, end=last)
    return StatsOut(
        start=result.start,
        end=result.end,
        totals=CountsOut(**_counts(result.totals)),
        galleries=[
            GalleryStatsOut(gallery_id=x.gallery_id, title=x.title, **_counts(x.counts))
            for x in result.galleries
        ],
        daily=[DayStatsOut(date=d.day, **_counts(d.counts)) for d in result.daily],
    )
