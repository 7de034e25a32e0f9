"""``piksend apps verify CLIENT_ID`` (issue 15, item 8): the operator's badge, from the shell."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from piksend.storage.engine import sync_url
from tests.cli.helpers import create_user, out, run

PASSWORD = "correct horse battery staple"


def test_apps_verify_marks_the_app_verified_and_prints_what_it_verified(both_env):
    create_user(both_env, "ann@example.com", PASSWORD, name="Ann")
    created = out(
        both_env,
        "apps", "create", "--owner", "ann@example.com", "--name", "Photo Helper",
        "--redirect-uri", "https://app.example.com/cb", "--scopes", "profile:read",
    )  # fmt: skip
    assert _verified_at(both_env, created["client_id"]) is None
    verified = out(both_env, "apps", "verify", created["client_id"])
    assert set(verified) == {"client_id", "name", "verified_at"}
    assert (verified["client_id"], verified["name"]) == (created["client_id"], "Photo Helper")
    assert _verified_at(both_env, created["client_id"]) is not None


def _verified_at(env, client_id: str):
    engine = create_engine(sync_url(env["PIKSEND_DATABASE_URL"]))
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT verified_at FROM clients WHERE id = :id"), {"id": client_id}
        ).scalar_one()
    engine.dispose()
    return found


def test_apps_verify_of_an_unknown_app_is_one_line(env):
    result = run(env, "apps", "verify", "pks_ci_nothing", check=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "piksend: No app with client_id pks_ci_nothing\n",
    )
