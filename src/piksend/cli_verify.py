"""``piksend apps verify CLIENT_ID``: the operator vouches for an app (issue 15, item 8).

The consent screen then shows "Verified by PikSend", and the app's developer may then give it a
name with PikSend in it (``piksend.clients.registry.update_app``). The CLI package wires it
with ``add_verify_parser(apps_subparsers)``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from piksend.settings import Settings, settings_from_env


async def verify_app(settings: Settings, client_id: str) -> dict[str, str]:
    """Mark the app verified now; returns what was verified. Raises ``NotFound``."""
    from piksend.clients.identity import verify
    from piksend.clock import utcnow
    from piksend.storage.engine import Database
    from piksend.storage.schema import ensure_ready

    ensure_ready(settings.database_url)
    db = Database(settings.database_url, pool_size=1, connect_timeout=settings.db_connect_timeout)
    try:
        now = utcnow()
        async with db.unit_of_work() as session:
            name = await verify(session, client_id, now)
    finally:
        await db.dispose()
    return {"client_id": client_id, "name": name, "verified_at": now.isoformat()}


def cmd_apps_verify(args: argparse.Namespace) -> int:
    from piksend.errors import NotFound

    try:
        verified = asyncio.run(verify_app(settings_from_env(), args.client_id))
    except NotFound as exc:
        print(f"piksend: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(verified, indent=2))
    return 0


def add_verify_parser(apps_subparsers) -> None:
    verify = apps_subparsers.add_parser(
        "verify", help='show the app as "Verified by PikSend" on the consent screen'
    )
    verify.add_argument("client_id")
    verify.set_defaults(func=cmd_apps_verify)
