"""The stats page's SVG chart geometry (web/routes/gallery_stats.py): stacked bars on a round
scale, every day present, no date label cut off at either end."""

from __future__ import annotations

from datetime import date, timedelta

from piksend.gallery.stats import Counts, DayCounts
from piksend.web.routes.gallery_stats import HEIGHT, build_chart

START = date(2026, 11, 1)


def days(*counts: Counts) -> list[DayCounts]:
    return [DayCounts(START + timedelta(i), c) for i, c in enumerate(counts)]


def test_a_day_is_a_stack_of_its_counters_in_proportion_on_a_round_scale():
    chart = build_chart(days(Counts(6, 3, 1), Counts(), Counts(2, 0, 0)))

    assert [t.label for t in chart.ticks] == ["0", "5", "10"]
    busiest, empty, small = chart.bars
    assert [round(s.height, 1) for s in busiest.segments] == [133.2, 66.6, 22.2]
    assert busiest.segments[-1].y == round(chart.baseline - 222, 2)
    assert empty.segments == []
    assert [round(s.height, 1) for s in small.segments] == [44.4]
    assert busiest.title == "2026-11-01: 6 gallery views, 3 photo views, 1 download"
    assert chart.baseline == HEIGHT - 28


def test_a_range_without_views_still_draws_every_day_and_a_scale_of_one():
    chart = build_chart(days(*[Counts()] * 30))

    assert len(chart.bars) == 30
    assert [t.label for t in chart.ticks] == ["0", "1"]


def test_the_first_and_last_dates_are_anchored_inside_the_chart():
    chart = build_chart(days(*[Counts()] * 7))

    assert [(label.text, label.anchor) for label in chart.labels] == [
        ("2026-11-01", "start"),
        ("2026-11-04", "middle"),
        ("2026-11-07", "end"),
    ]
