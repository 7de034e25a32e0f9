"""``piksend db upgrade``: migrate the database to the latest schema (or a named revision)."""

from __future__ import annotations

from piksend.cli.common import emit, redact
from piksend.settings import settings_from_env


def cmd_db_upgrade(args) -> int:
    from piksend.storage.schema import upgrade

    settings = settings_from_env()
    upgrade(settings.database_url, args.revision)
    emit({"database_url": redact(settings.database_url), "revision": args.revision})
    return 0


def add_parser(sub) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="migrate the database to the latest schema")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
