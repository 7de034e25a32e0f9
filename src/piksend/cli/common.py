"""What every command shares: JSON output, one-line errors, a session on the database, and
passwords read from a prompt or stdin, never from the command line."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from piksend.settings import Settings

T = TypeVar("T")


class CommandError(Exception):
    """An operator's mistake or an unmet precondition: printed as one line, exit ``status``."""

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the help to read, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"piksend: {message} (see `{self.prog} --help`)\n")


def emit(obj: Any) -> None:
    """One JSON object (or one array, for lists) on stdout, for scripting."""
    print(json.dumps(obj, indent=2, default=_json_default))


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def with_session(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn`` in one unit of work on a database whose schema is ready (an empty one is
    initialised, as ``serve`` does); committed when ``fn`` returns."""
    from piksend.storage.engine import Database
    from piksend.storage.schema import ensure_ready

    ensure_ready(settings.database_url)
    db = Database(settings.database_url, pool_size=1, connect_timeout=settings.db_connect_timeout)
    try:
        async with db.unit_of_work() as session:
            return await fn(session)
    finally:
        await db.dispose()


def read_password(*, confirm: bool) -> str:
    """The password from a prompt on the terminal (asked twice when ``confirm``), or the first
    line of stdin when it is a pipe or a file. On the command line a password would be seen
    by every user of the machine (``ps``) and kept in the shell's history."""
    if sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Password (again): ") != password:
            raise CommandError("the two passwords differ; nothing was changed")
    else:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        password = line[:-1] if line.endswith("\n") else line
        password = password.removesuffix("\r")
    if not password:
        raise CommandError(
            "no password given: type it at the prompt, or pipe it on stdin "
            "(printf '%s\\n' \"$PASSWORD\" | piksend …)"
        )
    return password
