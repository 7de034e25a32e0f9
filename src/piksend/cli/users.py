"""``piksend users create | list | disable | set-password``: accounts, from the operator's side.

Passwords come from a prompt or stdin (``common.read_password``), never from an argument.
"""

from __future__ import annotations

import asyncio

from piksend.cli.common import emit, read_password, with_session
from piksend.settings import settings_from_env


def _record(account) -> dict:
    return {
        "id": account.id,
        "email": account.email,
        "name": account.name,
        "email_verified": account.email_verified,
        "created_at": account.created_at,
        "disabled_at": account.disabled_at,
    }


def cmd_users_create(args) -> int:
    from piksend.accounts.service import create_user
    from piksend.clock import utcnow

    password = read_password(confirm=True)

    async def run(session):
        return await create_user(
            session,
            email=args.email,
            password=password,
            name=args.name or args.email.split("@")[0],
            now=utcnow(),
        )

    user = asyncio.run(with_session(settings_from_env(), run))
    emit({"id": user.id, "email": user.email, "name": user.name})
    return 0


def cmd_users_list(args) -> int:
    from piksend.accounts.admin import list_accounts

    accounts = asyncio.run(with_session(settings_from_env(), list_accounts))
    emit([_record(account) for account in accounts])
    return 0


def cmd_users_disable(args) -> int:
    from piksend.accounts.admin import disable_account
    from piksend.clock import utcnow

    async def run(session):
        return await disable_account(session, email=args.email, now=utcnow())

    emit(_record(asyncio.run(with_session(settings_from_env(), run))))
    return 0


def cmd_users_set_password(args) -> int:
    from piksend.accounts.admin import set_password
    from piksend.clock import utcnow

    password = read_password(confirm=True)

    async def run(session):
        return await set_password(session, email=args.email, password=password, now=utcnow())

    emit(_record(asyncio.run(with_session(settings_from_env(), run))))
    return 0


def add_parser(sub) -> None:
    users = sub.add_parser("users", help="accounts").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser(
        "create", help="create an account; the password is asked for, or read from stdin"
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name")
    create.set_defaults(func=cmd_users_create)

    users.add_parser("list", help="every account, as a JSON array").set_defaults(
        func=cmd_users_list
    )

    disable = users.add_parser(
        "disable", help="refuse the account's sign-in, end its sessions, revoke its apps' tokens"
    )
    disable.add_argument("--email", required=True)
    disable.set_defaults(func=cmd_users_disable)

    reset = users.add_parser(
        "set-password",
        help="set a new password (asked for, or read from stdin); every session ends",
    )
    reset.add_argument("--email", required=True)
    reset.set_defaults(func=cmd_users_set_password)
