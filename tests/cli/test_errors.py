"""Every operator mistake and unmet precondition is one line on stderr with a non-zero exit,
never a traceback: an unreachable database, a bad or busy port, an unknown command."""

from __future__ import annotations

import socket

import pytest

from piksend import __version__
from tests.cli.helpers import env_for, run

UNREACHABLE_PG = "postgresql://postgres:hunter2@127.0.0.1:1/piksend"


def test_version_prints_the_package_version(env):
    result = run(env, "--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"piksend {__version__}\n", "")


@pytest.mark.parametrize(
    "args",
    [("users", "list"), ("apps", "list"), ("apps", "show", "pks_ci_x"), ("db", "upgrade")],
)
def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path, args):
    result = run(env_for(tmp_path, UNREACHABLE_PG), *args, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "piksend: the database at postgresql://postgres:***@127.0.0.1:1/piksend is unreachable "
        "(OperationalError): check PIKSEND_DATABASE_URL and that the server is running\n"
    )


def test_a_sqlite_file_that_cannot_be_opened_is_one_line(tmp_path):
    url = f"sqlite:///{tmp_path}/missing/dir/piksend.db"
    result = run(env_for(tmp_path, url), "users", "list", check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"piksend: the database at {url} is unreachable (sqlite SQLITE_CANTOPEN): "
        "check PIKSEND_DATABASE_URL and that the server is running\n"
    )


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("99999", "99999 is not a port: choose one from 1 to 65535"),
        ("0", "0 is not a port: choose one from 1 to 65535"),
        ("http", "'http' is not a port number"),
    ],
)
def test_a_bad_port_is_one_line(env, port, message):
    result = run(env, "serve", "--port", port, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"piksend: argument --port: {message} (see `piksend serve --help`)\n",
    )


def test_a_busy_port_is_one_line_naming_the_port(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(env, "serve", "--port", str(port), check=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"piksend: port {port} on 127.0.0.1 is already in use: stop what listens there or "
        "choose another with --port\n",
    )


def test_an_address_not_of_this_machine_is_one_line(env):
    result = run(env, "serve", "--host", "192.0.2.1", "--port", "8000", check=False)
    assert (result.returncode, result.stderr) == (
        2,
        "piksend: 192.0.2.1 is not an address of this machine: choose another with --host\n",
    )


def test_an_unknown_command_is_one_line_naming_the_choices(env):
    result = run(env, "frobnicate", check=False)
    assert (result.returncode, result.stderr) == (
        2,
        "piksend: argument command: invalid choice: 'frobnicate' (choose from 'serve', 'db', "
        "'users', 'apps', 'doctor') (see `piksend --help`)\n",
    )


def test_a_bad_setting_is_one_line(tmp_path):
    env = env_for(tmp_path, f"sqlite:///{tmp_path}/x.db", PIKSEND_TRUSTED_PROXIES="10.0.0.0/99")
    result = run(env, "users", "list", check=False)
    assert (result.returncode, result.stderr) == (
        2,
        "piksend: PIKSEND_TRUSTED_PROXIES: '10.0.0.0/99' is not a CIDR\n",
    )
