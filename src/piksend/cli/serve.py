"""``piksend serve``: check the schema and the port, then run uvicorn's production stack."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from typing import TypedDict

from piksend.cli.common import CommandError
from piksend.settings import settings_from_env


def app_from_env():
    """Factory used by uvicorn (also in each worker process): settings from the environment."""
    import gc

    from piksend.app import create_app
    from piksend.logs import lean_records

    lean_records()
    app = create_app(settings_from_env())
    if os.environ.get("PIKSEND_ACCESS_LOG") == "1":
        from piksend.web.access_log import AccessLog

        app.access_log = AccessLog(sys.stdout)
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
    # The access log is the app's own (web/access_log.py), not uvicorn's: same lines, cheaper.
    level = logging.getLevelName(args.log_level.upper())
    quiet = isinstance(level, int) and level > logging.INFO
    os.environ["PIKSEND_ACCESS_LOG"] = "0" if args.no_access_log or quiet else "1"
    if args.workers > 1:
        _prepare_multiprocess_metrics(settings.data_dir / "metrics")
    try:
        ensure_ready(settings.database_url)
    except SchemaError as exc:
        print(f"piksend: {exc}", file=sys.stderr)
        return 2
    check_port(args.host, args.port)
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
        access_log=False,
        **SERVER_OPTIONS,
    )
    return 0


def port_number(value: str) -> int:
    """A TCP port is 16 bits (RFC 9293 §3.1); 0 would be a random one, unknown to the issuer."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: choose one from 1 to 65535")
    return port


def check_port(host: str, port: int) -> None:
    """Bind the address as uvicorn will (SO_REUSEADDR), then let it go: a port in use or
    refused is one line naming it, not uvicorn's errno after the start has been logged."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CommandError(f"cannot listen on {host!r}: {exc.strerror}", status=2) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                message = f"port {port} on {host} is already in use: stop what listens there"
                raise CommandError(f"{message} or choose another with --port", status=2) from None
            if exc.errno == errno.EACCES:
                message = f"port {port} on {host} needs privileges this user lacks"
                raise CommandError(
                    f"{message}: choose one above 1023 with --port", status=2
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                message = f"{host} is not an address of this machine"
                raise CommandError(f"{message}: choose another with --host", status=2) from None
            raise


def add_parser(sub) -> None:
    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8000)
    serve.add_argument(
        "--public-url", help="the public URL (issuer), e.g. https://auth.example.com"
    )
    serve.add_argument("--workers", type=_workers, default=1, help="worker processes")
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--no-access-log", action="store_true", help="do not log one line per request"
    )
    serve.set_defaults(func=cmd_serve)


def _workers(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of processes (1 or more)")
    return int(value)
