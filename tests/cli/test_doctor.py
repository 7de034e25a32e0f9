"""``piksend doctor``: on a good setup every line is ok and the exit is 0; each problem gives
its failing line (and only it) and exit 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from piksend.cli.doctor import FAIL, OK, Check, clock_check
from piksend.storage.engine import sync_url
from piksend.storage.schema import alembic_config, upgrade
from tests.cli.helpers import env_for, run
from tests.support.live import free_port
from tests.support.smtp import smtp_server

# The newest migration the package ships, whatever its number.
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@pytest.fixture
def smtp():
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def good(tmp_path, smtp):
    """A production-like setup: https, SMTP that answers, a migrated database, a private dir."""
    url = f"sqlite:///{tmp_path}/data/piksend.db"
    env = env_for(
        tmp_path, url, PIKSEND_PUBLIC_URL="https://auth.example.com", PIKSEND_SMTP_URL=smtp.url
    )
    run(env, "db", "upgrade")
    return env


def _lines(env) -> tuple[int, list[str]]:
    result = run(env, "doctor", check=False)
    assert result.stderr == ""
    return result.returncode, result.stdout.splitlines()


def _expected(tmp_path, smtp_url: str, **changed: str) -> list[str]:
    data = tmp_path / "data"
    host_port = smtp_url.removeprefix("smtp://")
    lines = {
        "settings": f"ok    settings: database sqlite:///{data}/piksend.db, data dir {data}",
        "database": "ok    database: reachable and takes a write",
        "migrations": f"ok    migrations: at {HEAD}, the latest",
        "clock": "CLOCK",
        "data dir": f"ok    data dir: {data} and its files are the owner's only",
        "blob store": f"ok    blob store: {data}/blobs takes a file",
        "public URL": "ok    public URL: https://auth.example.com (https)",
        "secret key": f"ok    secret key: generated once into {data}/secret.key",
        "smtp": f"ok    smtp: {host_port} answers (plain)",
        "webhook fetcher": "ok    webhook fetcher: private, loopback and link-local targets "
        "are refused",
    }
    lines.update(changed)
    return [line for line in lines.values() if line]


def _without_clock(lines: list[str]) -> list[str]:
    clock = [line for line in lines if line.startswith("ok    clock: ")]
    assert len(clock) == 1
    return ["CLOCK" if line in clock else line for line in lines]


def test_a_good_setup_is_all_ok_and_exits_0(good, tmp_path, smtp):
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (0, _expected(tmp_path, smtp.url))


def test_a_world_readable_data_dir_and_database_fail(good, tmp_path, smtp):
    data = tmp_path / "data"
    data.chmod(0o755)
    (data / "piksend.db").chmod(0o644)
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            **{
                "data dir": f"FAIL  data dir: readable by others: {data} (0755), piksend.db "
                f"(0644): chmod -R go= {data}"
            },
        ),
    )


def test_an_unreachable_database_fails_and_skips_what_needs_it(tmp_path, smtp):
    url = "postgresql://postgres:hunter2@127.0.0.1:1/piksend"
    env = env_for(
        tmp_path, url, PIKSEND_PUBLIC_URL="https://auth.example.com", PIKSEND_SMTP_URL=smtp.url
    )
    status, lines = _lines(env)
    assert (status, lines) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            settings=f"ok    settings: database postgresql://postgres:***@127.0.0.1:1/piksend, "
            f"data dir {tmp_path / 'data'}",
            database="FAIL  database: unreachable (ConnectionRefusedError (ECONNREFUSED)): check "
            "PIKSEND_DATABASE_URL",
            migrations="",
            clock="",
        ),
    )


def test_a_pending_migration_fails_naming_db_upgrade(tmp_path, smtp):
    url = f"sqlite:///{tmp_path}/data/piksend.db"
    (tmp_path / "data").mkdir(mode=0o700)
    upgrade(url, "0015")
    env = env_for(
        tmp_path, url, PIKSEND_PUBLIC_URL="https://auth.example.com", PIKSEND_SMTP_URL=smtp.url
    )
    status, lines = _lines(env)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            migrations=f"FAIL  migrations: at 0015, this version needs {HEAD}: run "
            "`piksend db upgrade`",
        ),
    )


def test_a_foreign_revision_fails(good, tmp_path, smtp):
    engine = create_engine(sync_url(good["PIKSEND_DATABASE_URL"]))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'elsewhere'"))
    engine.dispose()
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            migrations="FAIL  migrations: revision elsewhere is not one of this version's "
            "(newer code, or not piksend's)",
        ),
    )


def test_http_on_a_host_that_is_not_loopback_fails(good, tmp_path, smtp):
    good["PIKSEND_PUBLIC_URL"] = "http://auth.example.com"
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            **{
                "public URL": "FAIL  public URL: http://auth.example.com is not https: set "
                "PIKSEND_PUBLIC_URL to https:// behind TLS"
            },
        ),
    )


def test_http_on_loopback_and_no_smtp_are_warnings_for_development(good, tmp_path, smtp):
    good["PIKSEND_PUBLIC_URL"] = "http://127.0.0.1:8000"
    del good["PIKSEND_SMTP_URL"]
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        0,
        _expected(
            tmp_path,
            smtp.url,
            **{
                "public URL": "warn  public URL: http://127.0.0.1:8000: http on loopback, "
                "development only",
                "smtp": f"warn  smtp: development mode: e-mail written to {tmp_path}/data/outbox",
            },
        ),
    )


def test_missing_smtp_on_a_public_server_fails(good, tmp_path, smtp):
    del good["PIKSEND_SMTP_URL"]
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            smtp=f"FAIL  smtp: PIKSEND_SMTP_URL is not set: e-mail is only written to "
            f"{tmp_path}/data/outbox",
        ),
    )


def test_an_smtp_server_that_does_not_answer_fails(good, tmp_path, smtp):
    port = free_port()
    good["PIKSEND_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            smtp=f"FAIL  smtp: 127.0.0.1:{port} cannot be reached (Connection refused)",
        ),
    )


def test_a_short_secret_key_fails(good, tmp_path, smtp):
    good["PIKSEND_SECRET_KEY"] = "too-short"
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            **{"secret key": "FAIL  secret key: PIKSEND_SECRET_KEY is shorter than 32 characters"},
        ),
    )


def test_private_webhook_targets_on_a_public_server_fail(good, tmp_path, smtp):
    good["PIKSEND_WEBHOOKS_ALLOW_PRIVATE"] = "1"
    status, lines = _lines(good)
    assert (status, _without_clock(lines)) == (
        1,
        _expected(
            tmp_path,
            smtp.url,
            **{
                "webhook fetcher": "FAIL  webhook fetcher: PIKSEND_WEBHOOKS_ALLOW_PRIVATE=1: "
                "webhooks may reach this network's private hosts"
            },
        ),
    )


def test_a_setting_that_cannot_be_read_fails_alone(good):
    good["PIKSEND_DYNAMIC_REGISTRATION"] = "sometimes"
    assert _lines(good) == (
        1,
        ["FAIL  settings: PIKSEND_DYNAMIC_REGISTRATION must be off, public or open"],
    )


def test_a_clock_apart_from_the_databases_fails():
    ours = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert [
        clock_check(ours, ours + timedelta(seconds=1.5)),
        clock_check(ours, ours - timedelta(seconds=3)),
    ] == [
        Check("clock", OK, "agrees with the database (+1.5 s)"),
        Check(
            "clock", FAIL, "this machine and the database differ by -3.0 s: synchronise with NTP"
        ),
    ]


def test_a_blob_url_that_is_not_s3_fails(good, tmp_path, smtp):
    status, lines = _lines({**good, "PIKSEND_BLOB_URL": "ftp://bucket/x"})
    assert status == 1
    assert [line for line in lines if "blob store" in line] == [
        "FAIL  blob store: PIKSEND_BLOB_URL must be empty (the data dir) or s3://bucket/prefix?…"
    ]


def test_an_object_store_that_does_not_answer_fails_without_its_credentials(good, tmp_path, smtp):
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {
        **good,
        "PIKSEND_BLOB_URL": f"s3://bucket/piksend?endpoint={endpoint}",
        "AWS_ACCESS_KEY_ID": "doctor-key-id",
        "AWS_SECRET_ACCESS_KEY": "doctor-secret-value",
    }
    status, lines = _lines(env)
    assert status == 1
    (line,) = [line for line in lines if "blob store" in line]
    assert line.startswith("FAIL  blob store: ")
    assert "doctor-secret-value" not in "\n".join(lines)
