"""The migrations and storage/tables.py describe the same schema, and migrate down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

from piksend.storage.engine import sync_url
from piksend.storage.schema import downgrade, upgrade
from piksend.storage.tables import Base
from tests.support import db as testdb


def _differences(url: str) -> list:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrated_sqlite_schema_matches_the_tables_module(tmp_path):
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(url)
    assert _differences(url) == []


def test_migrated_postgres_schema_matches_the_tables_module():
    url = testdb.pg_url()
    if url is None:
        import pytest

        pytest.skip(testdb.PG_SKIP_REASON)
    fresh = testdb.create_pg_database(url)
    try:
        upgrade(fresh)
        assert _differences(fresh) == []
    finally:
        testdb.drop_pg_database(fresh)


def test_downgrading_the_page_tables_leaves_the_initial_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade(url)
    downgrade(url, "0001")
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert "form_nonces" not in names
    assert "integration_tests" not in names
    assert "clients" in names
