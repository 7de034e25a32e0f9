"""Is this exception "the database or the disk is unavailable"? The one place that decides.

Every path meets these failures in its own dress: SQLAlchemy wraps the driver's errors, the
asyncpg fast path raises asyncpg's and the operating system's own (a refused connection is a
bare ``ConnectionRefusedError``), SQLite says ``database is locked`` or ``database or disk is
full``, the blob store raises ``OSError`` 28. ``unavailable_reason`` names the failure class
of any of them in a few secret-free words (no SQL, no parameters, no message text from the
server), or returns ``None`` for everything else: a bug or bad input stays a bug (500) or
the client's error, never a retry-later.
"""

from __future__ import annotations

import errno
import socket
import sqlite3

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

# Resources the server lacks for now: the peer is gone, the disk is full or read-only.
UNAVAILABLE_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EIO,
        errno.EMFILE,
        errno.ENFILE,
    }
)

# SQLite primary result codes (https://www.sqlite.org/rescode.html): the write lock is held
# elsewhere (BUSY, LOCKED), the disk is full, failing, read-only, or the file cannot be opened.
# ERROR ("no such table", a syntax error) and CONSTRAINT are bugs or bad input.
UNAVAILABLE_SQLITE = frozenset(
    {
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
        "SQLITE_FULL",
        "SQLITE_IOERR",
        "SQLITE_CANTOPEN",
        "SQLITE_READONLY",
        "SQLITE_PROTOCOL",
        "SQLITE_NOMEM",
    }
)
SQLITE_PRIMARY_NAMES = {5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY",
                        10: "SQLITE_IOERR", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN",
                        15: "SQLITE_PROTOCOL"}  # fmt: skip

_SQLITE_MESSAGES = (
    ("database is locked", "SQLITE_BUSY"),
    ("database table is locked", "SQLITE_LOCKED"),
    ("database or disk is full", "SQLITE_FULL"),
    ("disk I/O error", "SQLITE_IOERR"),
    ("unable to open database file", "SQLITE_CANTOPEN"),
    ("attempt to write a readonly database", "SQLITE_READONLY"),
)

# PostgreSQL SQLSTATE classes and codes (Appendix A of its manual): 08 connection exception,
# 53 insufficient resources (disk full, out of memory, too many connections), 58 system error
# (I/O), 57P01-57P05 operator intervention (shutdown, crash, "starting up", database dropped).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "58"})
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P04", "57P05"})

# asyncpg's InterfaceError is both misuse (a bug) and "the connection or pool is gone".
_GONE_MARKERS = ("connection is closed", "pool is closing", "pool is closed")

# A pooled connection the server terminated while it sat idle (a shutdown's FATAL 57P01) is
# left consuming that error until the socket closes; a statement sent on it meanwhile fails
# with this instead of ConnectionDoesNotExistError. Concurrent use of one connection, the
# bug it could otherwise be, is refused earlier by asyncpg as InterfaceError.
_DYING = "cannot switch to state"


class Unavailable(Exception):
    """Raised by a store that knows itself unavailable (the S3 blob store, issue 11 item 6):
    ``reason`` is its secret-free failure class."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The classes whose instances may be unavailability: the web layer registers its handler for
# each (Starlette's Exception handler runs outside the middlewares, so it is the last resort).
MAY_BE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    sqlite3.Error,
    Unavailable,
)


def unavailable_reason(exc: BaseException) -> str | None:
    """A short name for the unavailability ``exc`` reports (its cause chain included), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        reason = _reason_of(current)
        if reason is not None:
            return reason
        nxt = getattr(current, "orig", None) if isinstance(current, sa_exc.DBAPIError) else None
        current = nxt if isinstance(nxt, BaseException) else current.__cause__
    return None


def _reason_of(exc: BaseException) -> str | None:
    if isinstance(exc, Unavailable):
        return exc.reason
    if isinstance(exc, sa_exc.DBAPIError):
        return _dbapi(exc)
    if isinstance(exc, sa_exc.DisconnectionError):
        return "DisconnectionError"
    if isinstance(exc, sa_exc.TimeoutError):  # QueuePool: no connection came free in time
        return "pool TimeoutError"
    if isinstance(exc, sqlite3.Error):
        return _sqlite(exc)
    if isinstance(exc, asyncpg.PostgresError):
        return _sqlstate(type(exc).__name__, getattr(exc, "sqlstate", None))
    if isinstance(exc, asyncpg.InterfaceError):
        message = str(exc)
        return "asyncpg InterfaceError" if any(m in message for m in _GONE_MARKERS) else None
    if isinstance(exc, asyncpg.InternalClientError) and str(exc).startswith(_DYING):
        return "asyncpg connection dying"
    if isinstance(exc, OSError):
        return _os_error(exc)
    return None


def _dbapi(exc: sa_exc.DBAPIError) -> str | None:
    orig = exc.orig
    if exc.connection_invalidated:  # SQLAlchemy's dialect recognised a lost connection
        return f"{type(exc).__name__} (connection lost)"
    if isinstance(orig, sqlite3.Error):
        return _sqlite(orig)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate:
        return _sqlstate(type(exc).__name__, sqlstate)
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        cause = getattr(orig, "__cause__", None)
        if isinstance(cause, asyncpg.InterfaceError) and _reason_of(cause) is None:
            return None  # asyncpg misuse ("another operation is in progress"): a bug
        return type(exc).__name__
    return None


def _sqlite(exc: sqlite3.Error) -> str | None:
    name = getattr(exc, "sqlite_errorname", None)
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        name = SQLITE_PRIMARY_NAMES.get(code & 0xFF, name)  # extended codes keep the primary
    if name in UNAVAILABLE_SQLITE:
        return f"sqlite {name}"
    # An error raised without its code (aiosqlite re-raising, older SQLite) keeps SQLite's
    # fixed message for these codes.
    message = str(exc)
    for text, fallback in _SQLITE_MESSAGES:
        if text in message:
            return f"sqlite {fallback}"
    return None


def _sqlstate(name: str, sqlstate: str | None) -> str | None:
    if not sqlstate:
        return None
    if sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in UNAVAILABLE_SQLSTATES:
        return f"{name} (SQLSTATE {sqlstate})"
    return None


def _os_error(exc: OSError) -> str | None:
    if isinstance(exc, socket.gaierror):
        return "gaierror (database host not resolved)"
    if isinstance(exc, TimeoutError):  # a connect or a read that timed out (errno often unset)
        return "TimeoutError"
    if exc.errno in UNAVAILABLE_ERRNOS:
        return f"{type(exc).__name__} ({errno.errorcode.get(exc.errno, exc.errno)})"
    return None
