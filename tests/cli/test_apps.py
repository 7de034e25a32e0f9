"""``piksend apps``: create, list, show, rotate-secret and delete, each printing JSON exactly,
on SQLite and PostgreSQL; comma-separated scopes are one line naming the fix (RFC 6749 §3.3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, text

from piksend.oauth import tokens
from piksend.storage.engine import sync_url
from tests.cli.helpers import create_user, out, run

PASSWORD = "correct horse battery staple"


def _create(env, owner: str, name: str, *extra: str) -> dict:
    return out(
        env, "apps", "create", "--owner", owner, "--name", name,
        "--redirect-uri", "https://app.example.com/cb", "--scopes", "profile:read", *extra,
    )  # fmt: skip


def _stamps(entry: dict) -> datetime:
    created = datetime.fromisoformat(entry.pop("created_at"))
    assert created.utcoffset() == timedelta(0)
    return created


def _digests(env, client_id: str) -> tuple:
    engine = create_engine(sync_url(env["PIKSEND_DATABASE_URL"]))
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT secret_digest, previous_secret_digest FROM clients WHERE id = :c"),
            {"c": client_id},
        ).one()
    engine.dispose()
    return tuple(row)


def test_apps_list_prints_every_app_with_its_owner_and_list_owner_only_theirs(both_env):
    create_user(both_env, "ann@example.com", PASSWORD, name="Ann")
    create_user(both_env, "bob@example.com", PASSWORD, name="Bob")
    first = _create(both_env, "ann@example.com", "Ann's app")
    second = _create(both_env, "bob@example.com", "Bob's app", "--public")
    listed = out(both_env, "apps", "list")
    for entry in listed:
        _stamps(entry)
    common = {"redirect_uris": ["https://app.example.com/cb"], "scopes": "profile:read"}
    assert listed == [
        {
            "client_id": first["client_id"],
            "client_type": "confidential",
            "token_endpoint_auth_method": "client_secret_basic",
            "name": "Ann's app",
            "owner": "ann@example.com",
            **common,
        },
        {
            "client_id": second["client_id"],
            "client_type": "public",
            "token_endpoint_auth_method": "none",
            "name": "Bob's app",
            "owner": "bob@example.com",
            **common,
        },
    ]
    bobs = out(both_env, "apps", "list", "--owner", "BOB@example.com")
    assert [entry["client_id"] for entry in bobs] == [second["client_id"]]


def test_apps_list_of_an_unknown_owner_is_one_line(env):
    result = run(env, "apps", "list", "--owner", "nobody@example.com", check=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "piksend: No account with email nobody@example.com\n",
    )


def test_apps_show_prints_one_app_without_any_secret(both_env):
    create_user(both_env, "ann@example.com", PASSWORD, name="Ann")
    created = _create(both_env, "ann@example.com", "Shown", "--description", "Shows photos")
    shown = out(both_env, "apps", "show", created["client_id"])
    assert shown.pop("updated_at") == shown["created_at"]
    _stamps(shown)
    assert shown == {
        "client_id": created["client_id"],
        "client_type": "confidential",
        "token_endpoint_auth_method": "client_secret_basic",
        "name": "Shown",
        "owner": "ann@example.com",
        "redirect_uris": ["https://app.example.com/cb"],
        "scopes": "profile:read",
        "description": "Shows photos",
        "logo_url": None,
        "website_url": None,
        "previous_secret_expires_at": None,
        "active_tokens": 0,
    }


def test_apps_show_of_an_unknown_app_is_one_line(env):
    result = run(env, "apps", "show", "pks_ci_nothing", check=False)
    assert (result.returncode, result.stderr) == (
        1,
        "piksend: No app with client_id pks_ci_nothing\n",
    )


def test_apps_rotate_secret_prints_the_new_secret_once_and_the_old_one_stops(both_env):
    create_user(both_env, "ann@example.com", PASSWORD, name="Ann")
    created = _create(both_env, "ann@example.com", "Rotated")
    rotated = out(both_env, "apps", "rotate-secret", created["client_id"])
    assert rotated == {
        "client_id": created["client_id"],
        "client_secret": rotated["client_secret"],
        "previous_secret_expires_at": None,
    }
    assert rotated["client_secret"].startswith("pks_cs_")
    assert rotated["client_secret"] != created["client_secret"]
    assert _digests(both_env, created["client_id"]) == (
        tokens.digest(rotated["client_secret"]),
        None,
    )


def test_apps_rotate_secret_with_grace_keeps_the_old_secret_that_long(both_env):
    create_user(both_env, "ann@example.com", PASSWORD, name="Ann")
    created = _create(both_env, "ann@example.com", "Rotated")
    before = datetime.now().astimezone()
    rotated = out(both_env, "apps", "rotate-secret", created["client_id"], "--grace", "12h")
    after = datetime.now().astimezone()
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert before + timedelta(hours=12) <= expires <= after + timedelta(hours=12)
    assert _digests(both_env, created["client_id"]) == (
        tokens.digest(rotated["client_secret"]),
        tokens.digest(created["client_secret"]),
    )


def test_a_grace_period_over_seven_days_or_unreadable_is_one_line(env):
    create_user(env, "ann@example.com", PASSWORD, name="Ann")
    created = _create(env, "ann@example.com", "Rotated")
    too_long = run(env, "apps", "rotate-secret", created["client_id"], "--grace", "8d", check=False)
    unreadable = run(
        env, "apps", "rotate-secret", created["client_id"], "--grace", "soon", check=False
    )
    assert (too_long.returncode, too_long.stderr) == (
        1,
        "piksend: Grace period must be between 0 seconds and 7 days\n",
    )
    assert (unreadable.returncode, unreadable.stderr) == (
        2,
        "piksend: argument --grace: 'soon' is not a duration such as 3600, 30m, 12h or 7d "
        "(see `piksend apps rotate-secret --help`)\n",
    )
    assert _digests(env, created["client_id"]) == (tokens.digest(created["client_secret"]), None)


def test_a_public_app_has_no_secret_to_rotate(env):
    create_user(env, "ann@example.com", PASSWORD, name="Ann")
    created = _create(env, "ann@example.com", "Public", "--public")
    result = run(env, "apps", "rotate-secret", created["client_id"], check=False)
    assert (result.returncode, result.stderr) == (
        1,
        "piksend: A public app has no client secret to rotate; make it confidential to issue one\n",
    )


def test_apps_delete_prints_what_it_deleted_and_the_app_is_gone(both_env):
    create_user(both_env, "ann@example.com", PASSWORD, name="Ann")
    created = _create(both_env, "ann@example.com", "Deleted")
    deleted = out(both_env, "apps", "delete", created["client_id"])
    assert deleted == {
        "client_id": created["client_id"],
        "deleted": True,
        "active_tokens_revoked": 0,
    }
    assert out(both_env, "apps", "list") == []
    again = run(both_env, "apps", "delete", created["client_id"], check=False)
    assert (again.returncode, again.stderr) == (
        1,
        f"piksend: No app with client_id {created['client_id']}\n",
    )


def test_comma_separated_scopes_are_one_line_saying_separate_them_with_spaces(env):
    create_user(env, "ann@example.com", PASSWORD, name="Ann")
    result = run(
        env, "apps", "create", "--owner", "ann@example.com", "--name", "Commas",
        "--redirect-uri", "https://app.example.com/cb", "--scopes", "profile:read,galleries:read",
        check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "piksend: argument --scopes: separate scopes with spaces, not commas: --scopes "
        '"profile:read galleries:read" (see `piksend apps create --help`)\n'
    )
    assert out(env, "apps", "list") == []
