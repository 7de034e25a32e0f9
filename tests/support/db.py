"""Test databases: a migrated SQLite file per test, or the CI PostgreSQL emptied per test."""

from __future__ import annotations

import functools
import os
import re
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL, Engine, make_url

from piksend.storage import tables as t
from piksend.storage.engine import sync_url
from piksend.storage.schema import upgrade

PG_ENV = "PIKSEND_TEST_POSTGRES_URL"
PG_SKIP_REASON = f"{PG_ENV} is not set: PostgreSQL variant skipped (CI sets it)"
# Set by the mutation check's PostgreSQL pass (tools/mutation_check.py), whose mutants run side by
# side, one process each: the PG_ENV database is then a migrated template, and every process
# gets a database of its own cloned from it (and dropped by drop_process_databases).
PG_PER_PROCESS_ENV = "PIKSEND_TEST_POSTGRES_PER_PROCESS"

_sqlite_template: Path | None = None
_pg_migrated: set[str] = set()


def pg_url() -> str | None:
    """The PostgreSQL test database; under pytest-xdist each worker gets its own beside it, and
    under the mutation check's PostgreSQL pass each process does (``PG_PER_PROCESS_ENV``)."""
    url = os.environ.get(PG_ENV) or None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is not None and not worker and os.environ.get(PG_PER_PROCESS_ENV):
        return _process_database(url, os.getpid())
    if url is None or not worker:
        return url
    return _worker_database(url, worker)


def _admin(base: URL) -> Engine:
    return create_engine(
        sync_url(base.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )


@functools.cache
def _process_database(url: str, pid: int) -> str:
    """This process's own database, a copy of the migrated template ``url`` (no migration)."""
    base = make_url(url)
    name = f"{base.database}_p{pid}"
    admin = _admin(base)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"'))
    admin.dispose()
    own = base.set(database=name).render_as_string(hide_password=False)
    _pg_migrated.add(own)
    return own


def drop_process_databases(url: str) -> None:
    """Drop every database ``_process_database`` made beside ``url``."""
    base = make_url(url)
    admin = _admin(base)
    own = re.compile(rf"{re.escape(str(base.database))}_p\d+")
    with admin.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database")).scalars().all()
        for name in filter(own.fullmatch, names):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(
        sync_url(base.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def fresh_sqlite(directory: Path, template_dir: Path) -> str:
    """A migrated SQLite database: migrations run once per session, then the file is copied."""
    global _sqlite_template
    if _sqlite_template is None or not _sqlite_template.exists():
        _sqlite_template = template_dir / "template.db"
        upgrade(f"sqlite:///{_sqlite_template}")
    target = directory / "piksend.db"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite:///{target}"


def reset_postgres(url: str) -> str:
    """Migrate once per session, then empty every table (fast) before each test."""
    if url not in _pg_migrated:
        upgrade(url)
        _pg_migrated.add(url)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    names = ", ".join(f'"{t.name}"' for t in t.Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()
    return url


def create_pg_database(url: str) -> str:
    """A brand-new empty database next to ``url`` (for live servers and migration tests)."""
    base = make_url(url)
    name = f"piksend_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        sync_url(base.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    base = make_url(url)
    admin = create_engine(
        sync_url(base.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{base.database}" WITH (FORCE)'))
    admin.dispose()


async def add_user_and_client(database, now, *, name: str = "A") -> None:
    """User ``usr_a`` (a@example.com) and her app ``cli_1`` (profile:read, https://a/cb)."""
    async with database.unit_of_work() as session:
        session.add(
            t.User(
                id="usr_a",
                email="a@example.com",
                name=name,
                password_hash="x",
                avatar_url=None,
                created_at=now,
            )
        )
        await session.flush()
        session.add(
            t.Client(
                id="cli_1",
                owner_id="usr_a",
                name="App",
                description="",
                logo_url=None,
                website_url=None,
                redirect_uris=["https://a/cb"],
                scopes="profile:read",
                secret_digest="d" * 64,
                created_at=now,
                updated_at=now,
            )
        )
