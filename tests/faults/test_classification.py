"""storage.unavailable: what counts as "the database or disk is unavailable" — and what not.

Real exceptions where they are cheap to cause (a held SQLite lock, a refused connection, a
constraint), the driver's own classes built as the driver builds them otherwise.
"""

from __future__ import annotations

import errno
import sqlite3

import asyncpg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from piksend.storage.unavailable import unavailable_reason


def sqlalchemy_error_from(sqlite_path, statement: str, *, lock: bool = False) -> BaseException:
    holder = sqlite3.connect(sqlite_path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER PRIMARY KEY)")
    holder.execute("INSERT OR IGNORE INTO t VALUES (1)")
    if lock:
        holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{sqlite_path}", connect_args={"timeout": 0.05})
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    except sa_exc.SQLAlchemyError as exc:
        return exc
    finally:
        engine.dispose()
        holder.close()
    raise AssertionError(f"{statement} did not fail")


def test_a_sqlite_write_lock_held_elsewhere_is_unavailable(tmp_path):
    exc = sqlalchemy_error_from(tmp_path / "x.db", "INSERT INTO t VALUES (2)", lock=True)
    assert unavailable_reason(exc) == "sqlite SQLITE_BUSY"


def test_a_sqlite_bug_or_constraint_is_not_unavailable(tmp_path):
    no_table = sqlalchemy_error_from(tmp_path / "x.db", "SELECT * FROM nowhere")
    duplicate = sqlalchemy_error_from(tmp_path / "x.db", "INSERT INTO t VALUES (1)")
    assert (type(no_table), unavailable_reason(no_table)) == (sa_exc.OperationalError, None)
    assert (type(duplicate), unavailable_reason(duplicate)) == (sa_exc.IntegrityError, None)


@pytest.mark.parametrize(
    ("code", "name", "message", "reason"),
    [
        (13, "SQLITE_FULL", "database or disk is full", "sqlite SQLITE_FULL"),
        (14, "SQLITE_CANTOPEN", "unable to open database file", "sqlite SQLITE_CANTOPEN"),
        (778, "SQLITE_IOERR_WRITE", "disk I/O error", "sqlite SQLITE_IOERR"),
        (None, None, "database or disk is full", "sqlite SQLITE_FULL"),
        (1, "SQLITE_ERROR", "no such column: x", None),
    ],
)
def test_sqlite_result_codes_are_read_by_their_primary_code(code, name, message, reason):
    error = sqlite3.OperationalError(message)
    if code is not None:
        error.sqlite_errorcode, error.sqlite_errorname = code, name
    wrapped = sa_exc.OperationalError("INSERT …", {}, error)
    assert (unavailable_reason(error), unavailable_reason(wrapped)) == (reason, reason)


async def test_a_refused_connection_from_asyncpg_is_unavailable():
    with pytest.raises(OSError) as refused:
        await asyncpg.connect("postgresql://postgres@127.0.0.1:1/x", timeout=5)
    assert unavailable_reason(refused.value) == "ConnectionRefusedError (ECONNREFUSED)"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            asyncpg.CannotConnectNowError("the database system is starting up"),
            "CannotConnectNowError (SQLSTATE 57P03)",
        ),
        (
            asyncpg.AdminShutdownError("terminating connection due to administrator command"),
            "AdminShutdownError (SQLSTATE 57P01)",
        ),
        (
            asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
            "ConnectionDoesNotExistError (SQLSTATE 08003)",
        ),
        (asyncpg.DiskFullError("could not extend file"), "DiskFullError (SQLSTATE 53100)"),
        (asyncpg.InterfaceError("connection is closed"), "asyncpg InterfaceError"),
        (asyncpg.InterfaceError("pool is closing"), "asyncpg InterfaceError"),
        (
            asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
            None,
        ),
        (
            asyncpg.InternalClientError(
                "cannot switch to state 12; another operation (2) is in progress"
            ),
            "asyncpg connection dying",
        ),
        (asyncpg.InternalClientError("unexpected codec state"), None),
        (asyncpg.UniqueViolationError("duplicate key"), None),
        (asyncpg.CharacterNotInRepertoireError("invalid byte sequence"), None),
    ],
)
def test_asyncpg_errors_are_unavailable_only_for_connections_and_resources(error, reason):
    assert unavailable_reason(error) == reason


def test_sqlalchemy_keeps_the_asyncpg_cause_it_translated():
    cause = asyncpg.CannotConnectNowError("the database system is starting up")
    translated = Exception("<class 'CannotConnectNowError'>: starting up")
    translated.sqlstate = "57P03"
    translated.__cause__ = cause
    wrapped = sa_exc.DBAPIError("SELECT …", {}, translated)
    assert unavailable_reason(wrapped) == "DBAPIError (SQLSTATE 57P03)"


def test_a_connection_sqlalchemy_invalidated_is_unavailable():
    wrapped = sa_exc.DBAPIError("SELECT …", {}, Exception("gone"), connection_invalidated=True)
    assert unavailable_reason(wrapped) == "DBAPIError (connection lost)"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "OSError (ENOSPC)"),
        (OSError(errno.EROFS, "Read-only file system"), "OSError (EROFS)"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "ConnectionResetError (ECONNRESET)"),
        (TimeoutError(), "TimeoutError"),
        (sa_exc.TimeoutError("QueuePool limit reached"), "pool TimeoutError"),
        (FileNotFoundError(errno.ENOENT, "No such file"), None),
        (PermissionError(errno.EACCES, "Permission denied"), None),
        (ValueError("bad input"), None),
        (KeyError("bug"), None),
    ],
)
def test_os_errors_are_unavailable_for_lost_peers_and_full_or_read_only_disks(error, reason):
    assert unavailable_reason(error) == reason


def test_a_cause_chain_is_followed_to_the_unavailability_underneath():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("upload failed") from inner
    except RuntimeError as outer:
        assert unavailable_reason(outer) == "OSError (ENOSPC)"
