"""``piksend users``: create, list, disable and set-password, with passwords read from stdin
or typed at a prompt, never taken from an argument; JSON out, on SQLite and PostgreSQL."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import create_engine, text

from piksend.storage.engine import sync_url
from tests.cli.helpers import create_user, out, run, run_on_terminal

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long quiet phrase"


def _row(env, email: str) -> tuple:
    engine = create_engine(sync_url(env["PIKSEND_DATABASE_URL"]))
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, password_hash, disabled_at FROM users WHERE email = :e"),
            {"e": email},
        ).one()
    engine.dispose()
    return tuple(row)


def _password_is(password_hash: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(password_hash, password)
    except VerifyMismatchError:
        return False


def test_users_create_reads_the_password_from_stdin(both_env):
    user = create_user(both_env, "Dev@Example.com", PASSWORD, name="Dev")
    user_id, password_hash, _ = _row(both_env, "dev@example.com")
    assert user == {"id": user_id, "email": "dev@example.com", "name": "Dev"}
    assert _password_is(password_hash, PASSWORD)


def test_users_create_asks_for_the_password_twice_on_a_terminal(env):
    status, shown = run_on_terminal(
        env,
        "users",
        "create",
        "--email",
        "tty@example.com",
        answers={"Password: ": PASSWORD, "Password (again): ": PASSWORD},
    )
    assert status == 0
    assert shown.startswith("Password: \nPassword (again): \n{")
    assert PASSWORD not in shown  # not echoed
    assert _password_is(_row(env, "tty@example.com")[1], PASSWORD)


def test_two_different_passwords_at_the_prompt_change_nothing(env):
    status, shown = run_on_terminal(
        env,
        "users",
        "create",
        "--email",
        "tty@example.com",
        answers={"Password: ": PASSWORD, "Password (again): ": NEW_PASSWORD},
    )
    assert (status, shown) == (
        1,
        "Password: \nPassword (again): \npiksend: the two passwords differ; nothing was changed\n",
    )


def test_an_empty_stdin_is_one_line_saying_how_to_give_the_password(env):
    result = run(env, "users", "create", "--email", "dev@example.com", input="", check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "piksend: no password given: type it at the prompt, or pipe it on stdin "
        "(printf '%s\\n' \"$PASSWORD\" | piksend …)\n"
    )


def test_a_weak_password_from_stdin_is_refused_by_the_policy(env):
    result = run(
        env, "users", "create", "--email", "d@example.com", input="password\n", check=False
    )
    assert (result.returncode, result.stderr) == (
        1,
        "piksend: This password is on lists of common and breached passwords: choose another\n",
    )


def test_users_list_prints_every_account_as_one_array(both_env):
    first = create_user(both_env, "a@example.com", PASSWORD, name="Ann")
    second = create_user(both_env, "b@example.com", PASSWORD, name="Bob")
    listed = out(both_env, "users", "list")
    for entry in listed:
        assert entry.pop("created_at").endswith("+00:00")
    assert listed == [
        {**first, "email_verified": False, "disabled_at": None},
        {**second, "email_verified": False, "disabled_at": None},
    ]


def test_users_list_of_an_empty_database_is_an_empty_array(env):
    assert run(env, "users", "list").stdout == "[]\n"


def test_users_disable_marks_the_account_and_prints_it(both_env):
    user = create_user(both_env, "a@example.com", PASSWORD, name="Ann")
    disabled = out(both_env, "users", "disable", "--email", "A@example.com")
    assert disabled.pop("created_at").endswith("+00:00")
    disabled_at = disabled.pop("disabled_at")
    assert disabled == {**user, "email_verified": False}
    assert _row(both_env, "a@example.com")[2] is not None
    again = out(both_env, "users", "disable", "--email", "a@example.com")
    assert again["disabled_at"] == disabled_at  # the first time is kept


def test_users_set_password_reads_stdin_and_only_the_new_password_works(both_env):
    create_user(both_env, "a@example.com", PASSWORD, name="Ann")
    changed = out(
        both_env, "users", "set-password", "--email", "a@example.com", input=NEW_PASSWORD + "\n"
    )
    assert changed["email"] == "a@example.com"
    password_hash = _row(both_env, "a@example.com")[1]
    assert (_password_is(password_hash, NEW_PASSWORD), _password_is(password_hash, PASSWORD)) == (
        True,
        False,
    )


def test_users_set_password_asks_on_a_terminal(env):
    create_user(env, "a@example.com", PASSWORD, name="Ann")
    status, shown = run_on_terminal(
        env,
        "users",
        "set-password",
        "--email",
        "a@example.com",
        answers={"Password: ": NEW_PASSWORD, "Password (again): ": NEW_PASSWORD},
    )
    assert status == 0
    assert NEW_PASSWORD not in shown
    assert _password_is(_row(env, "a@example.com")[1], NEW_PASSWORD)


def test_users_set_password_refuses_a_password_argument(env):
    create_user(env, "a@example.com", PASSWORD, name="Ann")
    result = run(
        env, "users", "set-password", "--email", "a@example.com", "--password", NEW_PASSWORD,
        check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"piksend: unrecognized arguments: --password {NEW_PASSWORD} (see `piksend --help`)\n"
    )
    assert _password_is(_row(env, "a@example.com")[1], PASSWORD)


def test_users_set_password_holds_the_new_password_to_the_policy(env):
    create_user(env, "ann@example.com", PASSWORD, name="Ann")
    result = run(
        env, "users", "set-password", "--email", "ann@example.com", input="ann@example.com\n",
        check=False,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (
        1,
        "piksend: Do not build your password from your name, your e-mail address or this "
        "site's name\n",
    )


def test_an_unknown_account_is_one_line_naming_it(env):
    create_user(env, "a@example.com", PASSWORD)
    for command in ("disable", "set-password"):
        result = run(
            env, "users", command, "--email", "nobody@example.com", input=NEW_PASSWORD + "\n",
            check=False,
        )  # fmt: skip
        assert (result.returncode, result.stderr) == (
            1,
            "piksend: No account with email nobody@example.com\n",
        )


def test_users_create_refuses_a_password_argument(env):
    result = run(
        env, "users", "create", "--email", "a@example.com", "--password", PASSWORD, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"piksend: unrecognized arguments: --password {PASSWORD} (see `piksend --help`)\n"
    )
