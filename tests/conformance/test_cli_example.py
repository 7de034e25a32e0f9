"""The command-line example (``src/piksend/web/examples/piksend_cli_example.py``), unchanged, as a
subprocess against a live ``piksend serve``: a public client on a loopback redirect with an
ephemeral port (RFC 8252 §7.3), its browser played by tests/support/browser_standin.py through the
real sign-in and consent pages. It must print the user's profile and galleries, leave no token
valid, and write nothing to disk unless asked with ``--save``."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.live import LiveServer
from tests.support.public_client import (
    BACKENDS,
    create_gallery,
    create_user,
    live_on,
    public_tokens,
    register_public_app,
    unrevoked_tokens,
)

pytestmark = pytest.mark.live

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "src" / "piksend" / "web" / "examples" / "piksend_cli_example.py"
EMAIL = "cleo@example.com"
REDIRECT_URI = "http://127.0.0.1/callback"  # as the example's docstring says to register it
STANDIN = shlex.join([sys.executable, "-m", "tests.support.browser_standin"])


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    with live_on(request.param, tmp_path_factory.mktemp("cli-example")) as live:
        create_user(live, EMAIL)
        yield live


@pytest.fixture(scope="module")
def client_id(server) -> str:
    client_id = register_public_app(
        server, owner=EMAIL, name="Terminal Photos", redirect_uris=[REDIRECT_URI]
    )
    tokens = public_tokens(
        server, client_id=client_id, redirect_uri="http://127.0.0.1:9/callback", email=EMAIL
    )
    create_gallery(server, tokens["access_token"], "Night trains")
    revoked = requests.post(
        f"{server.url}/api/oauth/revoke",
        data={"token": tokens["refresh_token"], "client_id": client_id},
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text
    return client_id


@pytest.fixture
def sandbox(tmp_path) -> dict[str, Path]:
    """Empty directories for the example's working directory, HOME and TMPDIR."""
    dirs = {name: tmp_path / name for name in ("cwd", "home", "tmp")}
    for path in dirs.values():
        path.mkdir()
    return dirs


def run_example(
    server: LiveServer,
    client_id: str,
    sandbox: dict[str, Path],
    *args: str,
    example: Path = EXAMPLE,
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIKSEND_")}
    env.update(
        HOME=str(sandbox["home"]),
        TMPDIR=str(sandbox["tmp"]),
        PYTHONPATH=str(REPO),
        PIKSEND_STANDIN_EMAIL=EMAIL,
    )
    return subprocess.run(
        [sys.executable, str(example), "--client-id", client_id, *args],
        cwd=sandbox["cwd"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def expected_output(server: LiveServer, client_id: str) -> dict:
    """What the API says now, read with a token of the test's own."""
    tokens = public_tokens(
        server, client_id=client_id, redirect_uri="http://127.0.0.1:9/callback", email=EMAIL
    )
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = requests.get(f"{server.url}/api/v1/me", headers=headers, timeout=10).json()
    galleries = requests.get(f"{server.url}/api/v1/galleries", headers=headers, timeout=10).json()
    requests.post(
        f"{server.url}/api/oauth/revoke",
        data={"token": tokens["refresh_token"], "client_id": client_id},
        timeout=10,
    ).raise_for_status()
    return {"scope": "profile:read galleries:read", "profile": me, "galleries": galleries["data"]}


def test_the_cli_example_signs_in_prints_profile_and_galleries_and_leaves_no_token_valid(
    server, client_id, sandbox
):
    done = run_example(
        server, client_id, sandbox, "--server", server.url, "--browser", STANDIN, "--timeout", "60"
    )

    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == expected_output(server, client_id)
    assert [g["title"] for g in printed["galleries"]] == ["Night trains"]
    assert printed["profile"]["email"] == EMAIL
    assert unrevoked_tokens(server, client_id) == []
    assert {name: sorted(os.listdir(path)) for name, path in sandbox.items()} == {
        "cwd": [],
        "home": [],
        "tmp": [],
    }


def test_the_cli_example_with_save_keeps_only_its_refresh_token_file_and_reuses_it(
    server, client_id, sandbox
):
    saved = sandbox["cwd"] / "piksend-token.json"

    first = run_example(
        server, client_id, sandbox, "--server", server.url, "--browser", STANDIN,
        "--timeout", "60", "--save", saved.name,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    record = json.loads(saved.read_text())
    assert sorted(record) == ["client_id", "refresh_token", "server"]
    assert (record["server"], record["client_id"]) == (server.url, client_id)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600

    # The second run must refresh from the file, never ask the browser: `false` would fail it.
    second = run_example(
        server, client_id, sandbox, "--server", server.url, "--browser", "false",
        "--save", saved.name, "--timeout", "10",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
    rotated = json.loads(saved.read_text())["refresh_token"]
    assert rotated != record["refresh_token"]
    assert {name: sorted(os.listdir(path)) for name, path in sandbox.items()} == {
        "cwd": [saved.name],
        "home": [],
        "tmp": [],
    }
    requests.post(
        f"{server.url}/api/oauth/revoke",
        data={"token": rotated, "client_id": client_id},
        timeout=10,
    ).raise_for_status()
    assert unrevoked_tokens(server, client_id) == []


def test_the_cli_example_downloaded_from_the_docs_knows_this_server_without_being_told(
    server, client_id, sandbox, tmp_path
):
    downloaded = tmp_path / "download" / "piksend_cli_example.py"
    downloaded.parent.mkdir()
    answer = requests.get(f"{server.url}/docs/oauth/examples/piksend_cli_example.py", timeout=10)
    assert answer.status_code == 200
    downloaded.write_bytes(answer.content)

    done = run_example(
        server, client_id, sandbox, "--browser", STANDIN, "--timeout", "60", example=downloaded
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected_output(server, client_id)
    assert unrevoked_tokens(server, client_id) == []
