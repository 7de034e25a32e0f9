"""Alembic environment: runs with a synchronous driver on the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from piksend.storage.engine import configure_sqlite, sync_url
from piksend.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    configured = config.get_main_option("sqlalchemy.url")
    if configured is None:
        raise RuntimeError("no sqlalchemy.url: run migrations through piksend.storage.schema")
    url = sync_url(configured)
    engine = create_engine(url, poolclass=pool.NullPool)
    if url.startswith("sqlite"):
        configure_sqlite(engine)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a table by rebuilding it, and dropping the old copy cascades to every
        # row that refers to it (ON DELETE CASCADE): a column dropped from `users` would delete
        # every token. sqlite.org/lang_altertable.html §7: foreign keys off for the change (the
        # pragma is ignored inside a transaction, hence before it), then checked.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        if broken:
            raise RuntimeError(
                f"the migration left rows whose foreign keys point nowhere: {broken}"
            )


run_migrations_online()
