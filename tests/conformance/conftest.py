"""A live ``piksend serve`` per module and backend, with a user and a registered app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest
import requests

from tests.support import db as testdb
from tests.support.live import LiveServer, free_port, live_server

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "live-password-1"


@dataclass
class LiveApp:
    server: LiveServer
    client_id: str
    client_secret: str
    redirect_uri: str
    email: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("live")
    if request.param == "postgresql":
        base = testdb.pg_url()
        if base is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.create_pg_database(base)
    else:
        url = f"sqlite:///{data_dir}/piksend.db"
    try:
        with live_server(data_dir, url) as server:
            yield server
    finally:
        if request.param == "postgresql":
            testdb.drop_pg_database(url)


@pytest.fixture(scope="module")
def live_app(live) -> LiveApp:
    email = "owner@example.com"
    live.cli("users", "create", "--email", email, "--password", PASSWORD, "--name", "Owner")
    callback_port = free_port()
    redirect_uri = f"http://127.0.0.1:{callback_port}/callback"
    created = live.cli(
        "apps",
        "create",
        "--owner",
        email,
        "--name",
        "Live Test App",
        "--redirect-uri",
        redirect_uri,
        "--redirect-uri",
        "http://localhost:5000/callback",
        "--scopes",
        "profile:read galleries:read galleries:write",
        "--description",
        "Conformance tests",
        "--website-url",
        "https://example.com",
    )
    return LiveApp(live, created["client_id"], created["client_secret"], redirect_uri, email)


def browser_approve(
    authorization_url: str, *, email: str, password: str = PASSWORD, scopes: list[str] | None = None
) -> str:
    """Act as the user's browser: follow to the sign-in form, sign in, approve on the real
    consent form, and return the Location the server sends the browser back to."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=True, timeout=10)
    if "/login" in response.url:
        next_value = re.search(r'name="next" value="([^"]*)"', response.text).group(1)
        response = browser.post(
            urljoin(response.url, "/login"),
            data={
                "csrf_token": CSRF.search(response.text).group(1),
                "email": email,
                "password": password,
                "next": next_value.replace("&amp;", "&"),
            },
            timeout=10,
        )
    assert response.status_code == 200, response.text[:500]
    pending = re.search(r'name="pending_id" value="([^"]+)"', response.text).group(1)
    offered = re.findall(r'name="scope" value="([^"]+)"', response.text)
    data = [
        ("csrf_token", CSRF.search(response.text).group(1)),
        ("pending_id", pending),
        ("decision", "approve"),
    ]
    data += [("scope", s) for s in (offered if scopes is None else scopes)]
    decided = browser.post(
        urljoin(response.url, "/api/oauth/consent"), data=data, allow_redirects=False, timeout=10
    )
    assert decided.status_code == 303, decided.text[:500]
    return decided.headers["location"]


@pytest.fixture(autouse=True)
def oauthlib_settings(monkeypatch):
    # requests-oauthlib refuses http:// unless told: these tests run over loopback (RFC 8252 §7.3)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    # and raises when the granted scope is narrower than asked, unless told that is fine
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
