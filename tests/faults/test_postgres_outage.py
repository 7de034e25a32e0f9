"""PostgreSQL stopped and started under a request loop (issue 10, items 1-2).

A private cluster (``cluster.py``) serves a real ``piksend serve``; a loop of refreshes,
introspections and ``GET /api/v1/me`` with real tokens runs while the cluster is stopped for
a few seconds and started again. No answer is a 5xx other than a well-formed 503, no token
is lost, and every request kind succeeds again after the restart without restarting piksend.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.faults import cluster as pg
from tests.faults.loop import RequestLoop, mint, readyz, readyz_becomes
from tests.support.live import live_server

OUTAGE_SECONDS = 3.0
RECOVERY_TIMEOUT = 30.0


def request_failures(log: str) -> list[str]:
    """Lines of a request that reached the catch-all (500) or escaped the app altogether."""
    markers = ("Exception in ASGI application", "unexpected error on")
    return [line for line in log.splitlines() if any(m in line for m in markers)]


def unexpected_log_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if '" 200' not in line and '" 503' not in line][:40]


@pytest.fixture
def private_cluster():
    reason = pg.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    # Not under pytest's tmp dir: that is root's 0700 tree, which the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="piksend-pg-"))
    try:
        cluster = pg.private_cluster(root)
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_postgresql_stopped_and_started_under_load_gives_only_503s_and_recovers(
    private_cluster, tmp_path
):
    url = private_cluster.create_database("piksend_faults")
    with live_server(tmp_path / "data", url, PIKSEND_READINESS_CACHE_SECONDS="0.5") as server:
        families = await mint(server, families=3)
        assert (await readyz(server))[0] == 200
        async with RequestLoop(server, families) as loop:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(private_cluster.stop)
            await asyncio.sleep(OUTAGE_SECONDS)
            during = await readyz(server)
            await asyncio.to_thread(private_cluster.start)
            loop.fault_ended()
            recovered = await loop.run_until_recovered(RECOVERY_TIMEOUT)
        after = await readyz_becomes(server, 200, timeout=10)
        tally = loop.tally
        print("\n" + tally.summary("PostgreSQL stopped for 3 s"))
        assert during == (
            503,
            {"status": "unavailable", "database": "unreachable", "storage": "ok"},
        )
        assert after == (200, {"status": "ready", "database": "ok", "storage": "ok"})
        assert tally.problems == [], (tally.problems[:5], unexpected_log_lines(server.log()))
        assert recovered, tally.summary("not recovered")
        assert tally.lost == set()
        assert tally.counts["503"] > 0
        assert request_failures(server.log()) == []
