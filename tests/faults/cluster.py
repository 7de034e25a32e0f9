"""A private PostgreSQL cluster for one test: ``initdb`` + ``pg_ctl`` in a temp dir, on a free
loopback port, stopped and started at will. Never the shared server.

PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres``
system user and every server command runs as that user (``runuser``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import free_port

PG_BIN = Path(os.environ.get("PIKSEND_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT = 60


def missing_reason() -> str | None:
    """Why a private cluster cannot be made here, or None when it can."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / tool).exists():
            return f"{PG_BIN / tool} is missing: no private PostgreSQL cluster (CI has it)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user to own a private cluster"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start a private cluster as postgres"
    return None


@dataclass
class PrivateCluster:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                "max_connections = 60\nshared_buffers = 16MB\n"
            )

    def start(self) -> None:
        """Start and wait until it accepts connections (pg_ctl -w)."""
        log = self.root / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A fast shutdown: sessions are terminated, in-flight transactions rolled back."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def private_cluster(root: Path) -> PrivateCluster:
    cluster = PrivateCluster(root, free_port())
    cluster.init()
    cluster.start()
    return cluster


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
