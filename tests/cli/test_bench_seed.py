"""bench/seed.py's minting interface (issue 11 item 5), as a benchmark harness drives it: a
user and an app made with the CLI, then `python -P bench/seed.py ... --kind K --n N --out FILE`,
and each kind of value used through a running server's HTTP endpoints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.cli.helpers import create_user, out
from tests.support.live import live_server

SEED = Path(__file__).resolve().parents[2] / "bench" / "seed.py"
VERIFIER = "a-verifier-of-the-benchmark-" + "x" * 30
REDIRECT = "https://bench.example.com/cb"


def _seed(env, *args: str, check: bool = True):
    return subprocess.run(
        [sys.executable, "-P", str(SEED), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def test_help_names_the_minting_flags(env):
    shown = _seed(env, "--help").stdout
    for flag in ("--client-id", "--user-id", "--kind", "--n", "--verifier", "--scope", "--out"):
        assert flag in shown


def test_minted_tokens_and_codes_work_through_http(both_env, tmp_path):
    user = create_user(both_env, "bench@example.com", "quiet otter lantern 42")
    app = out(
        both_env, "apps", "create", "--owner", "bench@example.com", "--name", "Bench",
        "--redirect-uri", REDIRECT, "--scopes", "profile:read",
    )  # fmt: skip
    minted = {}
    for kind in ("access", "refresh", "code"):
        path = tmp_path / f"{kind}.txt"
        _seed(
            both_env, "--database-url", both_env["PIKSEND_DATABASE_URL"],
            "--client-id", app["client_id"], "--user-id", user["id"], "--kind", kind,
            "--n", "3", "--verifier", VERIFIER, "--redirect-uri", REDIRECT,
            "--scope", "profile:read", "--out", str(path),
        )  # fmt: skip
        minted[kind] = path.read_text().split("\n")
        assert minted[kind][-1] == "" and len(minted[kind]) == 4  # one value a line
        assert len(set(minted[kind][:3])) == 3
    assert all(v.startswith("pks_at_") for v in minted["access"][:3])
    assert all(v.startswith("pks_rt_") for v in minted["refresh"][:3])
    assert all(v.startswith("pks_ac_") for v in minted["code"][:3])
    auth = (app["client_id"], app["client_secret"])
    database_url = both_env["PIKSEND_DATABASE_URL"]
    server_at = live_server(Path(both_env["PIKSEND_DATA_DIR"]), database_url)
    with server_at as server, httpx.Client(base_url=server.url, timeout=30) as http:
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {minted['access'][0]}"})
        assert me.status_code == 200, me.text
        assert me.json()["id"] == user["id"]
        rotated = http.post(
            "/api/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": minted["refresh"][0]},
            auth=auth,
        )
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["refresh_token"] != minted["refresh"][0]
        redeemed = http.post(
            "/api/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": minted["code"][0],
                "redirect_uri": REDIRECT,
                "code_verifier": VERIFIER,
            },
            auth=auth,
        )
        assert redeemed.status_code == 200, redeemed.text
        assert redeemed.json()["scope"] == "profile:read"
        # a wrong verifier fails the S256 check the codes were stored with (RFC 7636 §4.6)
        wrong = http.post(
            "/api/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": minted["code"][1],
                "redirect_uri": REDIRECT,
                "code_verifier": VERIFIER + "y",
            },
            auth=auth,
        )
        assert wrong.status_code == 400


def test_an_unknown_client_or_a_scope_beyond_the_apps_is_one_line(env, tmp_path):
    user = create_user(env, "bench@example.com", "quiet otter lantern 42")
    app = out(
        env, "apps", "create", "--owner", "bench@example.com", "--name", "Bench",
        "--redirect-uri", REDIRECT, "--scopes", "profile:read",
    )  # fmt: skip
    common = ("--database-url", env["PIKSEND_DATABASE_URL"], "--user-id", user["id"],
              "--kind", "access", "--n", "1", "--redirect-uri", REDIRECT,
              "--out", str(tmp_path / "x.txt"))  # fmt: skip
    unknown = _seed(env, *common, "--client-id", "pks_ci_nope", check=False)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "seed.py: no app with client id 'pks_ci_nope'"
    wide = _seed(env, *common, "--client-id", app["client_id"], "--scope", "galleries:write",
                 check=False)  # fmt: skip
    assert wide.returncode == 2 and "galleries:write" in wide.stderr
    assert not (tmp_path / "x.txt").exists()
