"""The gallery models and migration 0002 describe the same schema, and 0002 goes down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from piksend.storage.schema import downgrade, upgrade
from piksend.storage.tables import Base

GALLERY_TABLES = {"galleries", "images", "gallery_daily_stats", "webhooks", "webhook_deliveries"}


def test_the_migrated_schema_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrading_0002_removes_exactly_the_gallery_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade(url)
    downgrade(url, "0001")
    engine = create_engine(url)
    with engine.connect() as conn:
        remaining = set(inspect(conn).get_table_names())
    engine.dispose()
    assert remaining & GALLERY_TABLES == set()
    assert "users" in remaining
