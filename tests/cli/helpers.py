"""Running ``python -m piksend`` as an operator would: with stdin, or on a terminal (a pty)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import db as testdb
from tests.support.live import server_env

TIMEOUT = 120


def run(env, *args: str, input: str | None = "", check: bool = True):
    """The command's result; stdin is ``input`` (empty by default: never the test's own)."""
    return subprocess.run(
        [sys.executable, "-m", "piksend", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=check,
    )


def out(env, *args: str, input: str | None = ""):
    """The JSON the command printed."""
    return json.loads(run(env, *args, input=input).stdout)


def create_user(env, email: str, password: str, name: str = "Dev") -> dict:
    return out(env, "users", "create", "--email", email, "--name", name, input=password + "\n")


def run_on_terminal(env, *args: str, answers: dict[str, str]) -> tuple[int, str]:
    """Run the command on a pseudo-terminal of its own (its controlling tty, so getpass
    prompts there); each time the output ends with a key of ``answers``, type its value.
    Returns the exit status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its stdin, stdout, stderr and /dev/tty
        os.execve(sys.executable, [sys.executable, "-m", "piksend", *args], env)  # noqa: S606
    shown = b""
    answered = 0
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            pending = list(answers.items())[answered:]
            if pending and shown.decode(errors="replace").endswith(pending[0][0]):
                os.write(fd, pending[0][1].encode() + b"\n")
                answered += 1
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace").replace("\r\n", "\n")


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/cli.db"
        return
    url = testdb.create_pg_database(testdb.pg_url())  # type: ignore[arg-type]
    try:
        yield url
    finally:
        testdb.drop_pg_database(url)


def env_for(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return server_env(tmp_path / "data", url, **extra)
