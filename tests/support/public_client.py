"""Public clients against a live ``piksend serve``: a server per backend, a user and a public app
made through the CLI, the user's browser played by an HTTP client on the real sign-in and consent
pages, a static site on a second origin, and Node for the oauth4webapi script."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.support import db as testdb
from tests.support.live import LiveServer, live_server
from tests.support.pkce import pkce_pair

BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "public-client-password-1"
SCOPES = "profile:read galleries:read galleries:write"
NODE_DIR = Path(__file__).resolve().parents[1] / "node"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'name="next" value="([^"]*)"')
PENDING = re.compile(r'name="pending_id" value="([^"]+)"')
OFFERED = re.compile(r'name="scope" value="([^"]+)"')


@contextmanager
def live_on(backend: str, data_dir: Path, **env: str) -> Iterator[LiveServer]:
    """A live server on a fresh SQLite file, or on a brand-new PostgreSQL database next to
    PIKSEND_TEST_POSTGRES_URL (skipped with the reason when it is not set), as the other live
    tests choose theirs."""
    if backend == "postgresql":
        base = testdb.pg_url()
        if base is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.create_pg_database(base)
    else:
        url = f"sqlite:///{data_dir}/piksend.db"
    try:
        with live_server(data_dir, url, **env) as server:
            yield server
    finally:
        if backend == "postgresql":
            testdb.drop_pg_database(url)


def create_user(server: LiveServer, email: str) -> None:
    server.cli("users", "create", "--email", email, "--password", PASSWORD, "--name", "Pat Public")


def register_public_app(
    server: LiveServer, *, owner: str, name: str, redirect_uris: list[str], scopes: str = SCOPES
) -> str:
    """``piksend apps create … --public``, which prints no client secret; returns the client_id."""
    args = ["apps", "create", "--public", "--owner", owner, "--name", name, "--scopes", scopes]
    for uri in redirect_uris:
        args += ["--redirect-uri", uri]
    created = server.cli(*args)
    assert created == {
        "client_id": created["client_id"],
        "client_type": "public",
        "token_endpoint_auth_method": "none",
        "name": name,
        "redirect_uris": redirect_uris,
        "scopes": scopes,
    }
    return created["client_id"]


def sign_in_and_approve(
    authorization_url: str,
    *,
    email: str,
    browser: requests.Session | None = None,
    scopes: list[str] | None = None,
) -> str:
    """Play the user's browser: follow the authorization URL to the sign-in form, sign in, approve
    on the real consent form, and return the Location the server sends the browser back to."""
    browser = browser or requests.Session()
    page = browser.get(authorization_url, timeout=10)
    if urlsplit(page.url).path == "/login":
        page = browser.post(
            urljoin(page.url, "/login"),
            data={
                "csrf_token": CSRF.search(page.text).group(1),
                "email": email,
                "password": PASSWORD,
                "next": NEXT.search(page.text).group(1).replace("&amp;", "&"),
            },
            timeout=10,
        )
    assert page.status_code == 200, page.text[:500]
    offered = OFFERED.findall(page.text)
    data = [
        ("csrf_token", CSRF.search(page.text).group(1)),
        ("pending_id", PENDING.search(page.text).group(1)),
        ("decision", "approve"),
    ]
    data += [("scope", s) for s in (offered if scopes is None else scopes)]
    decided = browser.post(
        urljoin(page.url, "/api/oauth/consent"), data=data, allow_redirects=False, timeout=10
    )
    assert decided.status_code == 303, decided.text[:500]
    return decided.headers["location"]


def public_tokens(
    server: LiveServer, *, client_id: str, redirect_uri: str, email: str, scope: str = SCOPES
) -> dict:
    """A token pair for a public app, by hand: PKCE, sign in and approve, exchange with the
    client_id in the body and no secret."""
    verifier, challenge = pkce_pair()
    authorization_url = (
        requests.Request(
            "GET",
            f"{server.url}/api/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": "setup",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        .prepare()
        .url
    )
    location = sign_in_and_approve(authorization_url, email=email)
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = requests.post(
        f"{server.url}/api/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def create_gallery(server: LiveServer, access_token: str, title: str) -> None:
    response = requests.post(
        f"{server.url}/api/v1/galleries",
        json={"title": title},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def galleries_status(server: LiveServer, access_token: str) -> int:
    response = requests.get(
        f"{server.url}/api/v1/galleries",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    return response.status_code


def refresh_error(server: LiveServer, *, client_id: str, refresh_token: str) -> dict:
    """The token endpoint's JSON answer to a refresh that must fail."""
    response = requests.post(
        f"{server.url}/api/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
        },
        timeout=10,
    )
    assert response.status_code == 400, response.text
    return response.json()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def static_site(directory: Path, *, host: str = "localhost") -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 on a free port; yields the base URL under ``host``, so
    the page's origin differs from the piksend server's (http://127.0.0.1:<other port>) by host
    as well as by port, and no cookie of the server's reaches it."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def node_or_skip() -> str:
    """The node executable, with tests/node's packages installed (``npm ci --prefix tests/node``).
    Missing either is a skip with the reason, or a failure under PIKSEND_REQUIRE_NODE=1 (CI)."""
    node = shutil.which("node")
    if node is None:
        reason = "Node.js is not installed (node not on PATH)"
    elif not (NODE_DIR / "node_modules" / "oauth4webapi").is_dir():
        reason = "tests/node's packages are not installed: run `npm ci --prefix tests/node`"
    else:
        return node
    if os.environ.get("PIKSEND_REQUIRE_NODE") == "1":
        pytest.fail(f"{reason}, and PIKSEND_REQUIRE_NODE=1 requires the Node tests to run")
    pytest.skip(reason)


def unrevoked_tokens(server: LiveServer, client_id: str) -> list[str]:
    """The kinds of this client's tokens that are neither revoked nor rotated, read from the
    server's database (a token the client never showed the test is checked this way)."""
    from sqlalchemy import create_engine, pool, text

    from piksend.storage.engine import sync_url

    engine = create_engine(sync_url(server.database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT kind FROM tokens WHERE client_id = :client_id"
                    " AND revoked_at IS NULL AND rotated_at IS NULL ORDER BY kind"
                ),
                {"client_id": client_id},
            )
            return [row.kind for row in rows]
    finally:
        engine.dispose()
