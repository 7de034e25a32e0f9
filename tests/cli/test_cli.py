"""The piksend command: JSON output for scripting, schema refusal with a named remedy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from piksend.oauth import tokens
from piksend.storage.engine import sync_url
from tests.support import db as testdb
from tests.support.live import server_env


def run(env, *args, check=True, input=""):
    return subprocess.run(
        [sys.executable, "-m", "piksend", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


@pytest.fixture
def env(tmp_path):
    return server_env(tmp_path / "data", f"sqlite:///{tmp_path}/cli.db")


def test_users_and_apps_create_print_json_and_store_only_the_secret_digest(env, tmp_path):
    user = json.loads(
        run(env, "users", "create", "--email", "Dev@Example.com", input="s3cret-pass\n").stdout
    )
    assert user["email"] == "dev@example.com"
    created = json.loads(
        run(
            env,
            "apps",
            "create",
            "--owner",
            "dev@example.com",
            "--name",
            "CLI App",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--redirect-uri",
            "http://127.0.0.1:8080/cb",
            "--scopes",
            "profile:read galleries:read",
        ).stdout
    )
    assert created["client_id"].startswith("pks_ci_")
    assert created["client_secret"].startswith("pks_cs_")
    assert created["redirect_uris"] == ["https://app.example.com/cb", "http://127.0.0.1:8080/cb"]
    engine = create_engine(sync_url(f"sqlite:///{tmp_path}/cli.db"))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_digest FROM clients")).scalar_one()
    engine.dispose()
    assert stored == tokens.digest(created["client_secret"])
    assert created["client_secret"] not in (tmp_path / "cli.db").read_bytes().decode("latin-1")


def test_apps_create_rejects_an_http_redirect_uri_with_a_clear_message(env):
    run(env, "users", "create", "--email", "dev@example.com", input="s3cret-pass\n")
    result = run(
        env,
        "apps",
        "create",
        "--owner",
        "dev@example.com",
        "--name",
        "Bad",
        "--redirect-uri",
        "http://app.example.com/cb",
        "--scopes",
        "profile:read",
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "piksend: Redirect URI must use https (http is allowed only for localhost, 127.0.0.1 "
        "and [::1]): http://app.example.com/cb"
    )


def test_duplicate_user_is_a_clear_error(env):
    run(env, "users", "create", "--email", "dev@example.com", input="s3cret-pass\n")
    result = run(
        env,
        "users",
        "create",
        "--email",
        "dev@example.com",
        input="s3cret-pass\n",
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "piksend: An account with this email already exists"


def test_serve_refuses_an_out_of_date_database_naming_db_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    from piksend.storage.schema import upgrade

    upgrade(url)
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:  # pretend the schema is one migration behind
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    engine.dispose()
    result = run(server_env(tmp_path / "d", url), "serve", "--port", "1", check=False)
    assert result.returncode == 2
    assert "piksend db upgrade" in result.stderr


def test_db_upgrade_initialises_a_database(tmp_path):
    url = f"sqlite:///{tmp_path}/new.db"
    out = json.loads(run(server_env(tmp_path / "d", url), "db", "upgrade").stdout)
    assert out["revision"] == "head"
    from piksend.storage.schema import SchemaState, schema_state

    assert schema_state(url) is SchemaState.CURRENT


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path):
    from piksend.settings import settings_from_env

    env = {"PIKSEND_DATA_DIR": str(tmp_path / "d")}
    first = settings_from_env(environ=env)
    second = settings_from_env(environ=env)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 48
    assert oct((tmp_path / "d" / "secret.key").stat().st_mode & 0o777) == "0o600"


def test_postgres_url_is_accepted_in_plain_form():
    from piksend.storage.engine import async_url, sync_url

    assert async_url("postgresql://u:p@h:5432/db") == "postgresql+asyncpg://u:p@h:5432/db"
    assert sync_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert async_url("sqlite:////tmp/x.db") == "sqlite+aiosqlite:////tmp/x.db"
    with pytest.raises(ValueError):
        async_url("mysql://h/db")


@pytest.mark.skipif(testdb.pg_url() is None, reason=testdb.PG_SKIP_REASON)
def test_cli_works_on_postgresql(tmp_path):
    url = testdb.create_pg_database(testdb.pg_url())
    try:
        env = server_env(tmp_path / "d", url)
        out = json.loads(
            run(env, "users", "create", "--email", "pg@example.com", input="s3cret-pass\n").stdout
        )
        assert out["email"] == "pg@example.com"
    finally:
        testdb.drop_pg_database(url)


def test_apps_create_public_prints_auth_method_none_and_no_secret(env, tmp_path):
    run(env, "users", "create", "--email", "dev@example.com", input="s3cret-pass\n")
    created = json.loads(
        run(
            env,
            "apps",
            "create",
            "--owner",
            "dev@example.com",
            "--name",
            "Terminal",
            "--redirect-uri",
            "http://127.0.0.1/callback",
            "--redirect-uri",
            "com.example.terminal:/oauth2redirect",
            "--scopes",
            "profile:read",
            "--public",
        ).stdout
    )
    client_id = created.pop("client_id")
    assert client_id.startswith("pks_ci_")
    assert created == {
        "client_type": "public",
        "token_endpoint_auth_method": "none",
        "name": "Terminal",
        "redirect_uris": ["http://127.0.0.1/callback", "com.example.terminal:/oauth2redirect"],
        "scopes": "profile:read",
    }
    engine = create_engine(sync_url(f"sqlite:///{tmp_path}/cli.db"))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT client_type, secret_digest FROM clients")).one()
    engine.dispose()
    assert tuple(stored) == ("public", None)


def test_apps_create_refuses_a_private_use_scheme_without_public_naming_the_fix(env):
    run(env, "users", "create", "--email", "dev@example.com", input="s3cret-pass\n")
    result = run(
        env,
        "apps",
        "create",
        "--owner",
        "dev@example.com",
        "--name",
        "Terminal",
        "--redirect-uri",
        "com.example.terminal:/oauth2redirect",
        "--scopes",
        "profile:read",
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "piksend: A private-use scheme redirect URI (like com.example.app:/callback) is only for "
        "apps that run in a browser or on a device: make this app public, or use an https "
        "redirect URI: com.example.terminal:/oauth2redirect"
    )
