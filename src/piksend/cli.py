"""The ``piksend`` command: serve, db upgrade, users create, apps create.

Commands that create something print one JSON object, for scripting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import TypedDict

from piksend.settings import Settings, settings_from_env


def _print(obj: dict) -> None:
    print(json.dumps(obj, indent=2))


def app_from_env():
    """Factory used by uvicorn (also in each worker process): settings from the environment."""
    import gc

    from piksend.app import create_app

    app = create_app(settings_from_env())
    # Everything built so far (modules, routes, tables, templates) lives as long as the process:
    # moved out of the collector's reach, a full collection no longer walks it all mid-request.
    gc.collect()
    gc.freeze()
    return app


class ServerOptions(TypedDict):
    loop: str
    http: str
    proxy_headers: bool
    server_header: bool
    timeout_graceful_shutdown: int


# The production server stack, shared with bench/ceiling.py so the ceiling runs on the same one:
# uvloop's event loop and the httptools parser (both C), no Server header, no proxy trust.
SERVER_OPTIONS: ServerOptions = {
    "loop": "uvloop",
    "http": "httptools",
    "proxy_headers": False,
    "server_header": False,
    "timeout_graceful_shutdown": 10,
}


def _prepare_multiprocess_metrics(path) -> None:
    """prometheus-client's multiprocess mode: each worker writes its own files here and
    /metrics sums them. Emptied at start so counts from an earlier run are not added."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def cmd_serve(args) -> int:
    import uvicorn

    from piksend.logs import logging_config
    from piksend.storage.schema import SchemaError, ensure_ready

    if args.public_url:
        os.environ["PIKSEND_PUBLIC_URL"] = args.public_url
    elif not os.environ.get("PIKSEND_PUBLIC_URL"):
        shown = f"[{args.host}]" if ":" in args.host else args.host
        if shown in ("0.0.0.0", "[::]"):
            shown = "127.0.0.1"
        os.environ["PIKSEND_PUBLIC_URL"] = f"http://{shown}:{args.port}"
    settings = settings_from_env(host=args.host, port=args.port)
    os.environ["PIKSEND_DATA_DIR"] = str(settings.data_dir)
    os.environ["PIKSEND_WORKERS"] = str(args.workers)  # sizes each worker's connection pool
    if args.workers > 1:
        _prepare_multiprocess_metrics(settings.data_dir / "metrics")
    try:
        ensure_ready(settings.database_url)
    except SchemaError as exc:
        print(f"piksend: {exc}", file=sys.stderr)
        return 2
    print(
        f"piksend: serving {settings.public_url} (issuer) on {args.host}:{args.port}, "
        f"data in {settings.data_dir}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        "piksend.cli:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=logging_config(args.log_level.upper()),
        access_log=not args.no_access_log,
        **SERVER_OPTIONS,
    )
    return 0


def cmd_db_upgrade(args) -> int:
    from piksend.storage.schema import upgrade

    settings = settings_from_env()
    upgrade(settings.database_url, args.revision)
    _print({"database_url": _redact(settings.database_url), "revision": args.revision})
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _with_session(settings: Settings, fn):
    from piksend.storage.engine import Database
    from piksend.storage.schema import ensure_ready

    ensure_ready(settings.database_url)
    db = Database(settings.database_url, pool_size=1)
    try:
        async with db.unit_of_work() as session:
            return await fn(session)
    finally:
        await db.dispose()


def cmd_users_create(args) -> int:
    from piksend.accounts.service import create_user
    from piksend.clock import utcnow

    async def run(session):
        return await create_user(
            session,
            email=args.email,
            password=args.password,
            name=args.name or args.email.split("@")[0],
            now=utcnow(),
        )

    user = asyncio.run(_with_session(settings_from_env(), run))
    _print({"id": user.id, "email": user.email, "name": user.name})
    return 0


def cmd_apps_create(args) -> int:
    from piksend.accounts.service import get_user_by_email
    from piksend.clients.registry import create_app
    from piksend.clients.validation import AppFields
    from piksend.clock import utcnow
    from piksend.errors import NotFound
    from piksend.oauth.types import ClientType

    client_type = ClientType.PUBLIC if args.public else ClientType.CONFIDENTIAL
    fields = AppFields(
        name=args.name,
        redirect_uris=tuple(args.redirect_uri),
        scopes=tuple(args.scopes.split()),
        description=args.description or "",
        logo_url=args.logo_url,
        website_url=args.website_url,
    )

    async def run(session):
        owner = await get_user_by_email(session, args.owner)
        if owner is None:
            raise NotFound(f"No user with email {args.owner}")
        return await create_app(
            session, owner_id=owner.id, fields=fields, now=utcnow(), client_type=client_type
        )

    app, secret = asyncio.run(_with_session(settings_from_env(), run))
    credentials = {} if secret is None else {"client_secret": secret}
    _print(
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="piksend", description="PikSend OAuth 2.0 server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--public-url", help="the public URL (issuer), e.g. https://auth.example.com"
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--no-access-log", action="store_true", help="do not log one line per request"
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="migrate the database to the latest schema")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    users = sub.add_parser("users", help="accounts").add_subparsers(
        dest="users_command", required=True
    )
    uc = users.add_parser("create", help="create an account")
    uc.add_argument("--email", required=True)
    uc.add_argument("--password", required=True)
    uc.add_argument("--name")
    uc.set_defaults(func=cmd_users_create)

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
        "--scopes", required=True, help='space-separated, e.g. "profile:read galleries:read"'
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
    return parser


def main(argv: list[str] | None = None) -> int:
    from piksend.errors import DomainError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DomainError as exc:
        print(f"piksend: {exc.description}", file=sys.stderr)
        return 1
    except Exception as exc:  # a clear message rather than a traceback for operator mistakes
        from piksend.storage.schema import SchemaError

        if isinstance(exc, SchemaError | ValueError):
            print(f"piksend: {exc}", file=sys.stderr)
            return 2
        raise
