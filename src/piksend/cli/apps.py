"""``piksend apps create | list | show | rotate-secret | delete``: OAuth apps (clients).

A client secret is printed once, when it is made (RFC 6749 §2.3.1), and stored only as its
digest; nothing here can show it again.
"""

from __future__ import annotations

import argparse
import asyncio
import re

from piksend.cli.common import emit, with_session
from piksend.cli_verify import add_verify_parser
from piksend.settings import settings_from_env

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def grace_period(value: str) -> int:
    """Seconds, or a number with s, m, h or d: ``90``, ``30m``, ``12h``, ``7d``."""
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration such as 3600, 30m, 12h or 7d"
        )
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def scope_list(value: str) -> tuple[str, ...]:
    """RFC 6749 §3.3: a scope is a list of space-delimited strings; a comma is not a separator."""
    if "," in value:
        spaced = " ".join(part for part in re.split(r"[,\s]+", value) if part)
        raise argparse.ArgumentTypeError(
            f'separate scopes with spaces, not commas: --scopes "{spaced}"'
        )
    return tuple(value.split())


def _summary(app, owners: dict[str, str]) -> dict:
    return {
        "client_id": app.client_id,
        "client_type": app.client_type.value,
        "token_endpoint_auth_method": app.token_endpoint_auth_method,
        "name": app.name,
        "owner": owners.get(app.owner_id) if app.owner_id else None,
        "redirect_uris": list(app.redirect_uris),
        "scopes": " ".join(app.scopes),
        "created_at": app.created_at,
    }


def cmd_apps_create(args) -> int:
    from piksend.accounts.admin import account_id
    from piksend.clients.registry import create_app
    from piksend.clients.validation import AppFields
    from piksend.clock import utcnow
    from piksend.oauth.types import ClientType

    client_type = ClientType.PUBLIC if args.public else ClientType.CONFIDENTIAL
    fields = AppFields(
        name=args.name,
        redirect_uris=tuple(args.redirect_uri),
        scopes=args.scopes,
        description=args.description or "",
        logo_url=args.logo_url,
        website_url=args.website_url,
    )

    async def run(session):
        owner_id = await account_id(session, email=args.owner)
        return await create_app(
            session, owner_id=owner_id, fields=fields, now=utcnow(), client_type=client_type
        )

    app, secret = asyncio.run(with_session(settings_from_env(), run))
    credentials = {} if secret is None else {"client_secret": secret}
    emit(
        {
            "client_id": app.client_id,
            **credentials,
            "client_type": app.client_type.value,
            "token_endpoint_auth_method": app.token_endpoint_auth_method,
            "name": app.name,
            "redirect_uris": list(app.redirect_uris),
            "scopes": " ".join(app.scopes),
        }
    )
    return 0


def cmd_apps_list(args) -> int:
    from piksend.accounts.admin import account_id, emails_of
    from piksend.clients.registry import all_apps, list_apps

    async def run(session):
        if args.owner:
            apps = await list_apps(session, owner_id=await account_id(session, email=args.owner))
        else:
            apps = await all_apps(session)
        owners = await emails_of(session, {a.owner_id for a in apps if a.owner_id})
        return [_summary(app, owners) for app in apps]

    emit(asyncio.run(with_session(settings_from_env(), run)))
    return 0


def cmd_apps_show(args) -> int:
    from piksend.accounts.admin import emails_of
    from piksend.clients.registry import count_active_tokens, find_app
    from piksend.clock import utcnow

    async def run(session):
        app = await find_app(session, client_id=args.client_id)
        owners = await emails_of(session, {app.owner_id} if app.owner_id else set())
        active = await count_active_tokens(session, client_id=app.client_id, now=utcnow())
        return {
            **_summary(app, owners),
            "description": app.description,
            "logo_url": app.logo_url,
            "website_url": app.website_url,
            "updated_at": app.updated_at,
            "previous_secret_expires_at": app.previous_secret_expires_at,
            "active_tokens": active,
        }

    emit(asyncio.run(with_session(settings_from_env(), run)))
    return 0


def cmd_apps_rotate_secret(args) -> int:
    from piksend.clients.registry import find_app, rotate_secret
    from piksend.clock import utcnow

    async def run(session):
        app = await find_app(session, client_id=args.client_id)
        secret = await rotate_secret(
            session,
            owner_id=app.owner_id,
            client_id=app.client_id,
            now=utcnow(),
            grace_seconds=args.grace,
        )
        rotated = await find_app(session, client_id=app.client_id)
        return {
            "client_id": rotated.client_id,
            "client_secret": secret,
            "previous_secret_expires_at": rotated.previous_secret_expires_at,
        }

    emit(asyncio.run(with_session(settings_from_env(), run)))
    return 0


def cmd_apps_delete(args) -> int:
    from piksend.clients.registry import count_active_tokens, delete_app, find_app
    from piksend.clock import utcnow

    async def run(session):
        app = await find_app(session, client_id=args.client_id)
        active = await count_active_tokens(session, client_id=app.client_id, now=utcnow())
        await delete_app(session, owner_id=app.owner_id, client_id=app.client_id)
        return {"client_id": app.client_id, "deleted": True, "active_tokens_revoked": active}

    emit(asyncio.run(with_session(settings_from_env(), run)))
    return 0


def add_parser(sub) -> None:
    apps = sub.add_parser("apps", help="OAuth apps").add_subparsers(
        dest="apps_command", required=True
    )
    ac = apps.add_parser(
        "create", help="register an OAuth app; prints its client secret once (none if --public)"
    )
    ac.add_argument("--owner", required=True, help="e-mail of the owning account")
    ac.add_argument("--name", required=True)
    ac.add_argument("--redirect-uri", action="append", required=True)
    ac.add_argument(
        "--scopes",
        required=True,
        type=scope_list,
        help='space-separated, e.g. "profile:read galleries:read"',
    )
    ac.add_argument("--description")
    ac.add_argument("--logo-url")
    ac.add_argument("--website-url")
    ac.add_argument(
        "--public",
        action="store_true",
        help="an app without a backend (single-page, mobile, desktop or command-line): no "
        'client secret, token_endpoint_auth_method "none"; may use com.example.app:/… redirects',
    )
    ac.set_defaults(func=cmd_apps_create)

    listing = apps.add_parser("list", help="every app (or one account's), as a JSON array")
    listing.add_argument("--owner", help="only the apps of the account with this e-mail")
    listing.set_defaults(func=cmd_apps_list)

    show = apps.add_parser("show", help="one app, with its count of active tokens")
    show.add_argument("client_id")
    show.set_defaults(func=cmd_apps_show)

    rotate = apps.add_parser(
        "rotate-secret", help="issue a new client secret, printed once; the old one stops"
    )
    rotate.add_argument("client_id")
    rotate.add_argument(
        "--grace",
        type=grace_period,
        default=0,
        help="how long the old secret keeps working: seconds, or 30m, 12h, 7d (at most 7d)",
    )
    rotate.set_defaults(func=cmd_apps_rotate_secret)

    delete = apps.add_parser("delete", help="delete an app; its tokens stop working at once")
    delete.add_argument("client_id")
    delete.set_defaults(func=cmd_apps_delete)

    add_verify_parser(apps)  # piksend apps verify CLIENT_ID (issue 15)
