"""moto's standalone S3 server as a real separate process on a free port, for the tests of
the S3 blob store (no MinIO here; moto speaks the protocol)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import pytest

from tests.support.live import free_port


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("moto_server did not start")
    yield url
    process.terminate()
    process.wait(timeout=15)
