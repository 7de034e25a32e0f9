"""The ``piksend`` command: serve, db, users, apps, doctor.

Commands that print objects print one JSON object (one JSON array for lists), for scripting;
an operator's mistake or an unreachable database is one line on stderr, never a traceback.
Everything the command creates is its user's only (umask 077): the data dir 0700, the
database, the secret key, blobs and outgoing mail 0600 (issue 17, item 8).
"""

from __future__ import annotations

import os
import sys

from piksend import __version__
from piksend.cli import apps, db, doctor, serve, users
from piksend.cli.common import CommandError, Parser
from piksend.cli.serve import SERVER_OPTIONS, ServerOptions, app_from_env

__all__ = ["SERVER_OPTIONS", "ServerOptions", "app_from_env", "build_parser", "main"]

PRIVATE_UMASK = 0o077


def build_parser() -> Parser:
    parser = Parser(prog="piksend", description="PikSend OAuth 2.0 server")
    parser.add_argument("--version", action="version", version=f"piksend {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in (serve, db, users, apps, doctor):
        group.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"piksend: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("piksend: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a clear line rather than a traceback for operator mistakes
        return _one_line(exc)


def _one_line(exc: Exception) -> int:
    from piksend.errors import DomainError
    from piksend.storage.schema import SchemaError
    from piksend.storage.unavailable import unavailable_reason

    if isinstance(exc, DomainError):
        print(f"piksend: {exc.description}", file=sys.stderr)
        return 1
    if isinstance(exc, SchemaError | ValueError):
        print(f"piksend: {exc}", file=sys.stderr)
        return 2
    reason = unavailable_reason(exc)
    if reason is None:
        raise exc
    where = os.environ.get("PIKSEND_DATABASE_URL")
    shown = f" at {_redacted(where)}" if where else ""
    print(
        f"piksend: the database{shown} is unreachable ({reason}): "
        "check PIKSEND_DATABASE_URL and that the server is running",
        file=sys.stderr,
    )
    return 1


def _redacted(url: str) -> str:
    from piksend.cli.common import redact

    try:
        return redact(url)
    except Exception:  # an unparsable URL is shown as nothing rather than risk a password
        return "(PIKSEND_DATABASE_URL)"
