from __future__ import annotations

import pytest

from tests.cli.helpers import database, env_for
from tests.support import db as testdb


@pytest.fixture(params=["sqlite", "postgresql"])
def both_env(request, tmp_path):
    """The command's environment on a fresh database, SQLite and PostgreSQL."""
    if request.param == "postgresql" and testdb.pg_url() is None:
        pytest.skip(testdb.PG_SKIP_REASON)
    with database(request.param, tmp_path) as url:
        yield env_for(tmp_path, url)


@pytest.fixture
def env(tmp_path):
    return env_for(tmp_path, f"sqlite:///{tmp_path}/cli.db")
