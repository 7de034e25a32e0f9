"""Fault tests: the in-process ones run on SQLite (PostgreSQL outages are made with a private
cluster of their own, ``cluster.py``, never the shared server)."""

from __future__ import annotations

import pytest

from tests.support import db as testdb


@pytest.fixture
def database_url(tmp_path, tmp_path_factory):
    return testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp())
