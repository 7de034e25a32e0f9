"""``piksend doctor``: a checklist of what a deployment needs, one line per check.

Each line is ``ok``, ``warn`` (fine for development, not for production) or ``FAIL`` with what
to do; the exit status is 1 when any check fails. It reads and connects, and changes nothing
but what ``settings_from_env`` makes on first use (the data dir and its secret key).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from piksend.cli.common import redact
from piksend.settings import SECRET_KEY_FILE, Settings, settings_from_env

OK, WARN, FAIL = "ok", "warn", "FAIL"
MIN_SECRET_KEY = 32  # characters: at least 128 bits of a URL-safe random key (RFC 6819 §5.1.4.2.2)
MAX_CLOCK_SKEW = 2.0  # seconds between this machine and the database before expiry drifts
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def cmd_doctor(args) -> int:
    checks = run_checks()
    for check in checks:
        print(check.line())
    return 1 if any(check.status == FAIL for check in checks) else 0


def run_checks() -> list[Check]:
    try:
        settings = settings_from_env()
    except ValueError as exc:
        return [Check("settings", FAIL, str(exc))]
    checks = [
        Check(
            "settings",
            OK,
            f"database {redact(settings.database_url)}, data dir {settings.data_dir}",
        )
    ]
    database = _database(settings)
    checks.append(database)
    if database.status == OK:
        checks.append(_migrations(settings.database_url))
        checks.append(_clock(settings))
    checks.append(_data_dir(settings.data_dir))
    for probe in (_blob_store, _public_url, _secret_key, _smtp, _webhook_fetcher):
        checks.append(probe(settings))
    return checks


def _blob_store(settings: Settings) -> Check:
    """Where the images live (PIKSEND_BLOB_URL, else the data dir): reachable, there, writable
    (a probe object written, read back and removed: ``BlobStore.check``)."""
    from piksend.gallery.blobs import BlobStoreUnavailable, open_blob_store

    try:
        store = open_blob_store(settings.blob_url, settings.data_dir)
    except ValueError as exc:
        return Check("blob store", FAIL, str(exc))

    async def probe() -> str:
        try:
            return await asyncio.wait_for(store.check(), PROBE_TIMEOUT)
        finally:
            await store.close()

    try:
        checked = asyncio.run(probe())
    except TimeoutError:
        return Check(
            "blob store", FAIL, f"no answer within {PROBE_TIMEOUT:g} s: check PIKSEND_BLOB_URL"
        )
    except BlobStoreUnavailable as exc:
        return Check(
            "blob store", FAIL, f"{exc.reason}: check PIKSEND_BLOB_URL and its credentials"
        )
    except OSError as exc:
        return Check(
            "blob store", FAIL, f"cannot write there ({exc.strerror or type(exc).__name__})"
        )
    return Check("blob store", OK, checked)


def _database(settings: Settings) -> Check:
    from piksend.storage.engine import Database
    from piksend.storage.health import database_state

    async def probe() -> tuple[str, str | None]:
        db = Database(
            settings.database_url, pool_size=1, connect_timeout=settings.db_connect_timeout
        )
        try:
            return await database_state(db)
        finally:
            await db.dispose()

    state, reason = asyncio.run(probe())
    if state == OK:
        return Check("database", OK, "reachable and takes a write")
    return Check("database", FAIL, f"{state} ({reason}): check PIKSEND_DATABASE_URL")


def _revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    from piksend.storage.engine import sync_url

    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _migrations(url: str) -> Check:
    from alembic.script import ScriptDirectory

    from piksend.storage.schema import SchemaState, alembic_config, schema_state

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    state = schema_state(url)
    if state is SchemaState.CURRENT:
        return Check("migrations", OK, f"at {head}, the latest")
    if state is SchemaState.EMPTY:
        return Check("migrations", WARN, "empty database: `piksend serve` creates the schema")
    current = _revision(url)
    if state is SchemaState.OUTDATED:
        detail = f"at {current}, this version needs {head}: run `piksend db upgrade`"
        return Check("migrations", FAIL, detail)
    detail = f"revision {current} is not one of this version's (newer code, or not piksend's)"
    return Check("migrations", FAIL, detail)


def _clock(settings: Settings) -> Check:
    """Expiry times are written by every node and compared with the reader's clock: the
    machine's and the database's clocks must agree (RFC 6749 §4.1.2, §5.1: codes and tokens
    expire)."""
    from sqlalchemy import create_engine, pool, text

    from piksend.storage.engine import sync_url

    engine = create_engine(sync_url(settings.database_url), poolclass=pool.NullPool)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return Check("clock", OK, f"{_now():%Y-%m-%dT%H:%M:%SZ}, the database's own (SQLite)")
    try:
        with engine.connect() as conn:
            before = _now()
            theirs = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
            after = _now()
    finally:
        engine.dispose()
    return clock_check(before + (after - before) / 2, theirs)


def clock_check(ours: datetime, theirs: datetime) -> Check:
    skew = (theirs - ours).total_seconds()
    if abs(skew) > MAX_CLOCK_SKEW:
        detail = f"this machine and the database differ by {skew:+.1f} s: synchronise with NTP"
        return Check("clock", FAIL, detail)
    return Check("clock", OK, f"agrees with the database ({skew:+.1f} s)")


def _now() -> datetime:
    return datetime.now(UTC)


def _data_dir(data_dir: Path) -> Check:
    """Issue 17, item 8: the data dir is 0700 and the files in it 0600 (secret key, database,
    blobs, outgoing mail)."""
    problems = []
    for path in (data_dir, *sorted(data_dir.iterdir())):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077 and not path.is_symlink():
            problems.append(f"{path if path == data_dir else path.name} ({mode:04o})")
    if not problems:
        return Check("data dir", OK, f"{data_dir} and its files are the owner's only")
    shown = ", ".join(problems)
    return Check(
        "data dir",
        FAIL,
        f"readable by others: {shown}: chmod -R go= {data_dir}",
    )


def _loopback(host: str | None) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _public_url(settings: Settings) -> Check:
    """RFC 8414 §2: the issuer is an https URL with no query or fragment; RFC 6749 §3.1, §3.2:
    TLS at the authorization and token endpoints. http only on loopback, for development."""
    parts = urlsplit(settings.public_url)
    if parts.query or parts.fragment:
        return Check("public URL", FAIL, f"{settings.public_url} has a query or fragment")
    if parts.scheme == "https":
        return Check("public URL", OK, f"{settings.issuer} (https)")
    if parts.scheme == "http" and _loopback(parts.hostname):
        return Check("public URL", WARN, f"{settings.issuer}: http on loopback, development only")
    return Check(
        "public URL",
        FAIL,
        f"{settings.issuer} is not https: set PIKSEND_PUBLIC_URL to https:// behind TLS",
    )


def _secret_key(settings: Settings) -> Check:
    if os.environ.get("PIKSEND_SECRET_KEY"):
        if len(settings.secret_key) < MIN_SECRET_KEY:
            detail = f"PIKSEND_SECRET_KEY is shorter than {MIN_SECRET_KEY} characters"
            return Check("secret key", FAIL, detail)
        return Check("secret key", OK, "from PIKSEND_SECRET_KEY")
    return Check("secret key", OK, f"generated once into {settings.data_dir / SECRET_KEY_FILE}")


def _production(settings: Settings) -> bool:
    return not _loopback(urlsplit(settings.public_url).hostname)


def _smtp(settings: Settings) -> Check:
    from piksend.mail.transports import SmtpTransport

    if settings.smtp_url is None:
        outbox = settings.data_dir / "outbox"
        if _production(settings):
            detail = f"PIKSEND_SMTP_URL is not set: e-mail is only written to {outbox}"
            return Check("smtp", FAIL, detail)
        return Check("smtp", WARN, f"development mode: e-mail written to {outbox}")
    try:
        smtp = SmtpTransport.from_url(settings.smtp_url, timeout=PROBE_TIMEOUT)
    except ValueError as exc:
        return Check("smtp", FAIL, str(exc))
    where = f"{smtp.hostname}:{smtp.port}"
    problem = _greeting_problem(smtp.hostname, smtp.port, tls=smtp.implicit_tls)
    if problem:
        return Check("smtp", FAIL, f"{where} {problem}")
    tls = "TLS" if smtp.implicit_tls else "STARTTLS required" if smtp.require_starttls else "plain"
    return Check("smtp", OK, f"{where} answers ({tls})")


def _greeting_problem(host: str, port: int, *, tls: bool) -> str | None:
    """RFC 5321 §3.1: a server opens with a 220 greeting (after the TLS handshake on 465)."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as conn:
            if tls:
                return None
            greeting = conn.makefile("rb").readline(512)
    except OSError as exc:
        return f"cannot be reached ({exc.strerror or type(exc).__name__})"
    if not greeting.startswith(b"220"):
        return "does not greet as an SMTP server (no 220)"
    return None


def _webhook_fetcher(settings: Settings) -> Check:
    if not settings.webhooks_allow_private_targets:
        return Check("webhook fetcher", OK, "private, loopback and link-local targets are refused")
    detail = "PIKSEND_WEBHOOKS_ALLOW_PRIVATE=1: webhooks may reach this network's private hosts"
    return Check("webhook fetcher", FAIL if _production(settings) else WARN, detail)


def add_parser(sub) -> None:
    doctor = sub.add_parser("doctor", help="check the settings, database and data dir")
    doctor.set_defaults(func=cmd_doctor)
