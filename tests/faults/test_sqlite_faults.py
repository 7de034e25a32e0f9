"""SQLite under a held write lock and on a full disk, with a live server and a request loop
(issue 10, items 1-3): writers wait a bounded time and get well-formed 503s, reads go on,
/readyz says 503 while it lasts, and everything succeeds again once the fault is gone.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.faults.loop import (
    REQUEST_TIMEOUT,
    RequestLoop,
    mint,
    readyz_becomes,
    unavailable_problem,
)
from tests.faults.test_postgres_outage import request_failures
from tests.support import db as testdb
from tests.support.images import make_image
from tests.support.live import live_server

FAULT_SECONDS = 3.0
RECOVERY_TIMEOUT = 30.0
HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


def sqlite_file(tmp_path: Path, directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    url = testdb.fresh_sqlite(directory, tmp_path)
    return url


async def test_a_write_lock_held_by_another_process_gives_bounded_503s_and_recovers(tmp_path):
    url = sqlite_file(tmp_path, tmp_path / "db")
    env = {"PIKSEND_SQLITE_BUSY_TIMEOUT": "1", "PIKSEND_READINESS_CACHE_SECONDS": "0.5"}
    with live_server(tmp_path / "data", url, **env) as server:
        families = await mint(server, families=3)
        async with RequestLoop(server, families) as loop:
            await asyncio.sleep(1.0)
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLD_LOCK, url.removeprefix("sqlite:///")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
                await asyncio.sleep(FAULT_SECONDS)
                during = await readyz_becomes(server, 503, timeout=5)
            finally:
                holder.communicate("", timeout=10)  # the holder rolls back and exits
            loop.fault_ended()
            recovered = await loop.run_until_recovered(RECOVERY_TIMEOUT)
        after = await readyz_becomes(server, 200, timeout=10)
    tally = loop.tally
    print("\n" + tally.summary("SQLite write lock held for 3 s"))
    assert during == (
        503,
        {"status": "unavailable", "database": "not accepting writes", "storage": "ok"},
    )
    assert after == (200, {"status": "ready", "database": "ok", "storage": "ok"})
    assert tally.problems == []
    assert recovered, tally.summary("not recovered")
    assert tally.lost == set()
    assert tally.counts["no answer"] == 0  # no writer waited the client's 15 s out
    assert tally.counts["503"] > 0
    assert request_failures(server.log()) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 16 MiB tmpfs to fill up; skipped where mounting is not permitted."""
    mount_point = tmp_path / "vol"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs CAP_SYS_ADMIN): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system has no room left."""
    filler = directory / "filler"
    chunk = b"\0" * (64 * 1024)
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with filler.open("ab", buffering=0) as out:  # the last partial blocks too
        try:
            while True:
                out.write(b"\0" * 512)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


async def upload(http: httpx.AsyncClient, token: str, gallery_id: str) -> httpx.Response:
    return await http.post(
        f"/api/v1/galleries/{gallery_id}/images",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("p.png", make_image("PNG", color=tuple(os.urandom(3))), "image/png")},
    )


async def test_sqlite_on_a_full_disk_gives_503s_and_readyz_503_then_recovers(tmp_path, small_tmpfs):
    url = sqlite_file(tmp_path, small_tmpfs)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (small_tmpfs / "blobs").mkdir()
    (data_dir / "blobs").symlink_to(small_tmpfs / "blobs")  # the blob store on the tmpfs too
    env = {"PIKSEND_READINESS_CACHE_SECONDS": "0.5", "PIKSEND_READINESS_MIN_FREE_BYTES": "65536"}
    with live_server(data_dir, url, **env) as server:
        families = await mint(server, families=3)
        async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT) as http:
            bearer = {"Authorization": f"Bearer {families.access_token}"}
            made = await http.post("/api/v1/galleries", json={"title": "Full"}, headers=bearer)
            assert made.status_code == 201, made.text
            gallery_id = made.json()["id"]
            assert (await upload(http, families.access_token, gallery_id)).status_code == 201
            async with RequestLoop(server, families) as loop:
                await asyncio.sleep(1.0)
                filler = await asyncio.to_thread(fill, small_tmpfs)
                await asyncio.sleep(FAULT_SECONDS)
                refused = await upload(http, families.access_token, gallery_id)
                during = await readyz_becomes(server, 503, timeout=5)
                filler.unlink()
                loop.fault_ended()
                recovered = await loop.run_until_recovered(RECOVERY_TIMEOUT)
            accepted = await upload(http, families.access_token, gallery_id)
            listed = await http.get(f"/api/v1/galleries/{gallery_id}/images", headers=bearer)
        after = await readyz_becomes(server, 200, timeout=10)
    tally = loop.tally
    print("\n" + tally.summary("SQLite data dir on a full tmpfs for 3 s"))
    assert (refused.status_code, unavailable_problem(refused)) == (503, None)
    # The database still answers and takes the write lock; the disk under it has no room.
    assert during == (503, {"status": "unavailable", "database": "ok", "storage": "full"})
    assert after == (200, {"status": "ready", "database": "ok", "storage": "ok"})
    assert tally.problems == []
    assert recovered, tally.summary("not recovered")
    assert tally.lost == set()
    assert tally.counts["503"] > 0
    assert accepted.status_code == 201
    assert len(listed.json()["data"]) == 2  # the refused upload left no image behind
    assert request_failures(server.log()) == []
