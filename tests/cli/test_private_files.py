"""Issue 17, item 8: the data dir is its owner's only (0700) and so is every file in it (0600),
whatever umask the operator's shell has."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from contextlib import contextmanager

import pytest

from piksend.cli import main
from piksend.settings import settings_from_env
from piksend.storage.schema import upgrade
from tests.cli.helpers import env_for


def _modes(directory) -> dict[str, str]:
    found = {".": f"{stat.S_IMODE(directory.stat().st_mode):04o}"}
    for path in sorted(directory.rglob("*")):
        found[str(path.relative_to(directory))] = f"{stat.S_IMODE(path.stat().st_mode):04o}"
    return found


@contextmanager
def umask(value: int):
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_command_makes_the_data_dir_0700_and_its_files_0600_under_an_open_umask(tmp_path):
    env = env_for(tmp_path, "")
    del env["PIKSEND_DATABASE_URL"]  # the default: piksend.db inside the data dir
    result = subprocess.run(
        [sys.executable, "-m", "piksend", "users", "create", "--email", "a@example.com"],
        env=env,
        input="correct horse battery staple\n",
        capture_output=True,
        text=True,
        timeout=120,
        umask=0,  # the shell's umask gives others everything: the command must not
    )
    assert result.returncode == 0, result.stderr
    assert _modes(tmp_path / "data") == {".": "0700", "piksend.db": "0600", "secret.key": "0600"}


def test_settings_make_a_new_data_dir_0700_even_with_an_open_umask(tmp_path):
    with umask(0):
        settings = settings_from_env(environ={"PIKSEND_DATA_DIR": str(tmp_path / "fresh")})
    assert _modes(settings.data_dir) == {".": "0700", "secret.key": "0600"}


def test_a_new_sqlite_database_file_is_made_0600_even_with_an_open_umask(tmp_path):
    with umask(0):
        upgrade(f"sqlite:///{tmp_path}/new.db")
    assert f"{stat.S_IMODE((tmp_path / 'new.db').stat().st_mode):04o}" == "0600"


def test_the_command_sets_a_private_umask_before_anything_else(monkeypatch):
    """Blobs, outgoing mail and anything else ``serve`` and its workers write inherit it."""
    with umask(0):
        with pytest.raises(SystemExit) as exited:
            main(["--version"])
        during = os.umask(0)
    assert (exited.value.code, f"{during:04o}") == (0, "0077")
