"""Schema state: migrate an empty database, refuse an out-of-date one (named remedy)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool

from piksend.storage.engine import configure_sqlite, sync_url

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaState(StrEnum):
    EMPTY = "empty"
    CURRENT = "current"
    OUTDATED = "outdated"
    UNKNOWN = "unknown"  # newer than this code, or not a piksend database


class SchemaError(RuntimeError):
    pass


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _engine(url: str):
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    return engine


def schema_state(url: str) -> SchemaState:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current is None:
                return (
                    SchemaState.EMPTY
                    if not inspect(conn).get_table_names()
                    else SchemaState.UNKNOWN
                )
        script = ScriptDirectory.from_config(alembic_config(url))
        if current == script.get_current_head():
            return SchemaState.CURRENT
        known = {rev.revision for rev in script.walk_revisions()}
        return SchemaState.OUTDATED if current in known else SchemaState.UNKNOWN
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def ensure_ready(url: str) -> None:
    """What ``serve`` does at start: initialise an empty database, refuse anything else stale."""
    state = schema_state(url)
    if state is SchemaState.EMPTY:
        upgrade(url)
    elif state is SchemaState.OUTDATED:
        raise SchemaError(
            "The database schema is out of date. Run `piksend db upgrade` and start again."
        )
    elif state is SchemaState.UNKNOWN:
        raise SchemaError(
            "The database holds tables piksend does not recognise, or a schema newer than this "
            "version of piksend. Point PIKSEND_DATABASE_URL at a piksend database, or run "
            "`piksend db upgrade` with the matching version."
        )
