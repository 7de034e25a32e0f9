"""Readiness probes: does the database accept writes, do the data directories have room?

Each probe is cheap (one statement, one small file) and answers in words a health check can
show; ``web.ops`` runs them together for ``/readyz`` and caches the verdict.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from piksend.storage.engine import Database
from piksend.storage.unavailable import unavailable_reason

OK = "ok"
UNREACHABLE = "unreachable"
READ_ONLY = "not accepting writes"
FULL = "full"
NOT_WRITABLE = "not writable"
PROBE_BYTES = 4096
SQLITE_PROBE_WAIT = 0.25  # seconds a probe waits for a write lock held elsewhere


async def database_state(db: Database) -> tuple[str, str | None]:
    """("ok", None) when the database answers and accepts a write, else (state, reason)."""
    if db.is_sqlite:
        return await asyncio.to_thread(_sqlite_state, make_url(db.url).database)
    try:
        conn = await db.engine.connect()
    except Exception as exc:  # any failure to connect is "unreachable"
        return UNREACHABLE, unavailable_reason(exc) or type(exc).__name__
    try:
        # Assigning a transaction id and committing it writes a commit record: refused by a
        # read-only server (SQLSTATE 25006) or a standby in recovery, unlike SELECT 1.
        await conn.execute(text("SELECT txid_current()"))
        await conn.commit()
    except Exception as exc:  # told apart by the reason only
        reason = unavailable_reason(exc) or type(exc).__name__
        lost = "connection lost" in reason or "SQLSTATE 08" in reason
        return (UNREACHABLE if lost else READ_ONLY), reason
    finally:
        await conn.close()
    return OK, None


def _sqlite_state(path: str | None) -> tuple[str, str | None]:
    """Open the file afresh (it must still be openable) and take the write lock, briefly: a
    lock held elsewhere for longer than the probe's wait means writers are stuck too."""
    if not path or path == ":memory:":
        return OK, None
    try:
        conn = sqlite3.connect(path, timeout=SQLITE_PROBE_WAIT, isolation_level=None)
    except sqlite3.Error as exc:
        return UNREACHABLE, unavailable_reason(exc) or type(exc).__name__
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        return READ_ONLY, unavailable_reason(exc) or type(exc).__name__
    finally:
        conn.close()
    return OK, None


def sqlite_directory(db: Database) -> Path | None:
    """The directory of a SQLite database file (its journal and WAL grow there)."""
    path = make_url(db.url).database if db.is_sqlite else None
    return Path(path).resolve().parent if path and path != ":memory:" else None


async def directories_state(
    directories: Iterable[Path], *, min_free_bytes: int
) -> tuple[str, str | None]:
    return await asyncio.to_thread(_directories_state, tuple(directories), min_free_bytes)


def _directories_state(directories: tuple[Path, ...], min_free: int) -> tuple[str, str | None]:
    """("ok", None) when each directory has ``min_free`` bytes free and takes a small file."""
    for directory in dict.fromkeys(directories):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            stats = os.statvfs(directory)
            free = stats.f_bavail * stats.f_frsize
            if free < min_free:
                return FULL, f"{free} bytes free in {directory.name or directory}"
            probe = directory / f".piksend-ready-{os.getpid()}"
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0" * PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
                probe.unlink(missing_ok=True)
        except OSError as exc:
            reason = unavailable_reason(exc) or type(exc).__name__
            return (FULL if "ENOSPC" in reason or "EDQUOT" in reason else NOT_WRITABLE), reason
    return OK, None
