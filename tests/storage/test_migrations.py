"""Migrations: up and down on both backends, and the models agree with the migrated schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from piksend.storage.engine import sync_url
from piksend.storage.schema import SchemaState, downgrade, schema_state, upgrade
from piksend.storage.tables import Base
from tests.support import db as testdb


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "postgresql":
        if testdb.pg_url() is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.create_pg_database(testdb.pg_url())
        yield url
        testdb.drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path}/m.db"


def test_upgrade_then_downgrade_to_base_then_upgrade_again(empty_url):
    assert schema_state(empty_url) is SchemaState.EMPTY
    upgrade(empty_url)
    assert schema_state(empty_url) is SchemaState.CURRENT
    downgrade(empty_url, "base")
    engine = create_engine(sync_url(empty_url))
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(empty_url)
    assert schema_state(empty_url) is SchemaState.CURRENT


def test_models_match_the_migrated_schema(empty_url):
    upgrade(empty_url)
    engine = create_engine(sync_url(empty_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    engine.dispose()
    return names


GALLERY_TABLES = {"galleries", "images", "gallery_daily_stats", "webhooks", "webhook_deliveries"}


def test_each_migration_downgrades_exactly_its_own_tables(tmp_path):
    url = f"sqlite:///{tmp_path}/steps.db"
    upgrade(url)
    downgrade(url, "0002")
    after_pages = _tables(url)
    assert {"form_nonces", "integration_tests"} & after_pages == set()
    assert after_pages >= GALLERY_TABLES
    downgrade(url, "0001")
    after_gallery = _tables(url)
    assert GALLERY_TABLES & after_gallery == set()
    assert {"users", "clients", "tokens", "consents"} <= after_gallery


def test_apps_registered_before_client_types_become_confidential_and_keep_their_secret(
    empty_url,
):
    upgrade(empty_url, "0003")
    engine = create_engine(sync_url(empty_url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, password_hash, created_at) "
                "VALUES ('usr_a', 'a@example.com', 'A', 'x', '2026-01-01T00:00:00+00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO clients (id, owner_id, name, description, redirect_uris, scopes, "
                "secret_digest, created_at, updated_at) VALUES ('cli_1', 'usr_a', 'App', '', "
                "'[\"https://a/cb\"]', 'profile:read', :digest, '2026-01-01T00:00:00+00:00', "
                "'2026-01-01T00:00:00+00:00')"
            ),
            {"digest": "d" * 64},
        )
    engine.dispose()
    upgrade(empty_url)
    engine = create_engine(sync_url(empty_url))
    with engine.connect() as conn:
        row = conn.execute(text("SELECT client_type, secret_digest FROM clients")).one()
    engine.dispose()
    assert tuple(row) == ("confidential", "d" * 64)
