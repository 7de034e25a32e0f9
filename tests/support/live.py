"""A real ``piksend serve`` subprocess on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port no other test process will pick, and that the kernel never hands out.

    ``bind(0)`` returns a port from the ephemeral range, which the kernel also uses as the source
    port of outgoing connections (to PostgreSQL, between test clients...): a server restarted on
    "its" port after a kill could find it taken by some other socket ("address already in use",
    seen in CI). So ports come from below the ephemeral range, a slice of it per xdist worker, and
    never twice from one process."""
    low, high = 10000, max(_ephemeral_low(), 12000)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker) if worker.isdigit() else 0
    width = (high - low) // max(count, 1)
    start = low + (index % max(count, 1)) * width
    for _ in range(200):
        port = random.randrange(start, start + width)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {start}..{start + width}")


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    database_url: str
    process: subprocess.Popen
    log_path: Path
    port: int = 0
    args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return server_env(self.data_dir, self.database_url)

    def cli(self, *args: str) -> dict:
        """Run a ``piksend`` command against this server's data and parse its JSON output.

        The CLI takes no password argument (issue 17): ``--password X`` here is piped to the
        command's stdin instead, as an operator would."""
        words, stdin = list(args), None
        if "--password" in words:
            at = words.index("--password")
            stdin = words[at + 1] + "\n"
            del words[at : at + 2]
        out = subprocess.run(
            [sys.executable, "-m", "piksend", *words],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return json.loads(out.stdout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, as a service manager stops it; SIGKILL only if it hangs. The exit status."""
        return _stop(self.process, timeout)

    def restart(self) -> None:
        """A real restart: this process ends, then a new one serves the same port and data."""
        returncode = self.stop()
        # uvicorn re-raises the SIGTERM it handled once shut down: -15 is a clean stop too
        assert returncode in (0, -signal.SIGTERM), f"exited with {returncode}:\n{self.log()}"
        self.process = _start(
            self.port, self.args, self.data_dir, self.database_url, self.extra_env
        )
        wait_until_up(self.url, self.process, self.log_path)


def server_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIKSEND_")}
    env.update(
        PIKSEND_DATA_DIR=str(data_dir),
        PIKSEND_DATABASE_URL=database_url,
        PYTHONPATH=os.pathsep.join(p for p in (env.get("PYTHONPATH"), _src()) if p),
        **extra,
    )
    return env


def _src() -> str:
    import piksend

    return str(Path(piksend.__file__).resolve().parent.parent)


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    # 90 s: a loaded 2-core machine took over 30 s to import and migrate once (seen in a full run)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"piksend serve exited with {process.returncode}:\n{log_path.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/.well-known/oauth-authorization-server", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"piksend serve did not answer within {timeout}s:\n{log_path.read_text()}")


def _start(port: int, args, data_dir: Path, database_url: str, env: dict[str, str]):
    with (data_dir / f"serve-{port}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "piksend", "serve", "--port", str(port), *args],
            env=server_env(data_dir, database_url, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen, timeout: float = 15) -> int:
    process.terminate()
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@contextmanager
def live_server(data_dir: Path, database_url: str, *, port: int | None = None, args=(), **env):
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"serve-{port}.log"
    process = _start(port, tuple(args), data_dir, database_url, env)
    server = LiveServer(url, data_dir, database_url, process, log_path, port, tuple(args), env)
    try:
        wait_until_up(url, process, log_path)
        yield server
    finally:
        _stop(server.process)  # the latest process, after any restart()
