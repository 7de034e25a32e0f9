"""A view counts once per visitor per UTC day (issue 15, item 4), on SQLite and PostgreSQL:
a salted daily digest of the address and the user agent, never the values themselves."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from piksend.gallery import stats
from piksend.storage.tables import gallery as g
from tests.support.images import make_image

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) VisitorMarker/15.4"
OTHER_BROWSER = "Mozilla/5.0 (Macintosh) VisitorMarker/99.1"


async def shared(world) -> tuple[str, str]:
    gallery = await world.alice.create_gallery("Shared", visibility="public")
    image = (await world.alice.upload(gallery["id"], make_image("JPEG"))).json()
    return gallery["share_url"].removeprefix("http://127.0.0.1:8000"), image["id"]


async def totals(world) -> dict:
    reader = await world.scoped("stats:read")
    return (await reader.get("/api/v1/stats")).json()["totals"]


@pytest.fixture
async def elsewhere(app):
    """A visitor at another address (127.0.0.9) than the default client's."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
        yield c


async def visitor_rows(app) -> list[tuple[str, object]]:
    async with app.state.ctx.db.unit_of_work() as session:
        rows = await session.execute(select(g.GalleryVisitor.digest, g.GalleryVisitor.day))
        return [tuple(r) for r in rows.all()]


async def test_reloads_by_one_visitor_count_once(world, http):
    path, image_id = await shared(world)
    ua = {"user-agent": BROWSER}
    for _ in range(5):
        assert (await http.get(path, headers=ua)).status_code == 200
        assert (await http.get(f"{path}/images/{image_id}", headers=ua)).status_code == 200
        download = await http.get(f"{path}/images/{image_id}/download", headers=ua)
        assert download.status_code == 200

    assert await totals(world) == {"gallery_views": 1, "image_views": 1, "downloads": 1}


async def test_two_visitors_count_twice_by_address_or_by_browser(world, http, elsewhere):
    path, _ = await shared(world)
    await http.get(path, headers={"user-agent": BROWSER})
    await http.get(path, headers={"user-agent": BROWSER})
    await elsewhere.get(path, headers={"user-agent": BROWSER})  # same browser, other address
    await http.get(path, headers={"user-agent": OTHER_BROWSER})  # same address, other browser

    assert (await totals(world))["gallery_views"] == 3


async def test_the_same_visitor_counts_again_the_next_utc_day_and_yesterday_is_trimmed(
    world, http, app, clock
):
    path, _ = await shared(world)
    first_day = clock.now.date()
    await http.get(path, headers={"user-agent": BROWSER})
    clock.advance(24 * 3600)
    await http.get(path, headers={"user-agent": BROWSER})
    await http.get(path, headers={"user-agent": BROWSER})

    reader = await world.scoped("stats:read")
    daily = (await reader.get("/api/v1/stats", params={"start": first_day.isoformat()})).json()[
        "daily"
    ]
    assert [d["gallery_views"] for d in daily] == [1, 1]
    assert sorted(day for _, day in await visitor_rows(app)) == [first_day, clock.now.date()]

    trimmed = await stats.trim_visitors(app.state.ctx.db, today=clock.now.date())

    assert trimmed == {"gallery_visitors": 1}
    assert [day for _, day in await visitor_rows(app)] == [clock.now.date()]


async def test_only_keyed_digests_are_stored_never_the_address_or_the_user_agent(
    world, elsewhere, app, settings
):
    path, image_id = await shared(world)
    await elsewhere.get(path, headers={"user-agent": BROWSER})
    await elsewhere.get(f"{path}/images/{image_id}", headers={"user-agent": BROWSER})

    rows = await visitor_rows(app)
    assert len(rows) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest, _ in rows)
    if settings.database_url.startswith("sqlite"):
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        assert b"VisitorMarker" not in stored
        assert b"127.0.0.9" not in stored
