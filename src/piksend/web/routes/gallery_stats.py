"""The owner's statistics page: views and downloads per day as a server-rendered SVG bar chart
(with a title, a description and the same numbers as a table), and per gallery.

The numbers are :func:`piksend.gallery.stats.get_stats`, the ones ``GET /api/v1/stats`` reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from piksend.gallery import stats
from piksend.web.auth import SignedIn
from piksend.web.context import ctx
from piksend.web.render import page

router = APIRouter(include_in_schema=False)

RANGES = (7, 30, 90, 365)
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 28
# (counter, label, fill): the fills keep at least 3:1 contrast on white (WCAG 1.4.11).
SERIES = (
    ("gallery_views", "Gallery views", "#1d4ed8"),
    ("image_views", "Photo views", "#047857"),
    ("downloads", "Downloads", "#b45309"),
)


@dataclass(frozen=True)
class Segment:
    y: float
    height: float
    fill: str


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    segments: list[Segment]
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str
    anchor: str  # the first date starts at its bar, the last ends at its: none is cut off


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    baseline: float
    left: int
    right: float


def _step(peak: int) -> int:
    """A round step for four or fewer gridlines above zero: 1, 2, 5 × 10ⁿ."""
    raw = max(1.0, peak / 4)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _plural(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def day_text(day: stats.DayCounts) -> str:
    c = day.counts
    return (
        f"{day.day.isoformat()}: {_plural(c.gallery_views, 'gallery view')}, "
        f"{_plural(c.image_views, 'photo view')}, {_plural(c.downloads, 'download')}"
    )


def build_chart(daily: list[stats.DayCounts]) -> Chart:
    """The geometry of a stacked bar per day; the template only draws it."""
    totals = [d.counts.gallery_views + d.counts.image_views + d.counts.downloads for d in daily]
    step = _step(max(totals, default=0))
    top_value = step * max(1, math.ceil(max(totals, default=0) / step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h
    slot = plot_w / max(1, len(daily))
    bar_w = max(1.0, slot * 0.8)
    bars = []
    for index, day in enumerate(daily):
        y, segments = float(baseline), []
        for counter, _label, fill in SERIES:
            value = getattr(day.counts, counter)
            if value:
                h = plot_h * value / top_value
                y -= h
                segments.append(Segment(round(y, 2), round(h, 2), fill))
        x = LEFT + index * slot + (slot - bar_w) / 2
        bars.append(Bar(round(x, 2), round(bar_w, 2), segments, day_text(day)))
    ticks = [
        Tick(round(baseline - plot_h * v / top_value, 2), str(v))
        for v in range(0, top_value + 1, step)
    ]
    picks = sorted({0, len(daily) // 2, len(daily) - 1}) if daily else []
    last = len(daily) - 1
    labels = [
        Label(
            round(LEFT + (i + 0.5) * slot, 2),
            daily[i].day.isoformat(),
            "middle" if 0 < i < last else ("end" if i == last and last > 0 else "start"),
        )
        for i in picks
    ]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, baseline, LEFT, WIDTH - RIGHT)


@router.get("/galleries/stats")
async def my_stats(request: Request, user: SignedIn, days: int = 30) -> Response:
    c = ctx(request)
    days = days if days in RANGES else 30
    end = c.now().date()
    start = end - timedelta(days=days - 1)
    async with c.db.reader() as s:
        found = await stats.get_stats(s, owner_id=user.id, start=start, end=end)
    return page(
        request,
        "gallery/stats.html",
        no_store=True,
        stats=found,
        chart=build_chart(found.daily),
        series=SERIES,
        days=days,
        ranges=RANGES,
        day_text=day_text,
    )
