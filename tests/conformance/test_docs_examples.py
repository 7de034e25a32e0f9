"""The request shapes of the published docs' Python example (JSON bodies), against a live server."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conformance.conftest import browser_approve

pytestmark = pytest.mark.live


def generate_pkce():
    # exactly the docs' generate_pkce()
    verifier = base64.urlsafe_b64encode(os.urandom(32)).decode("utf-8").rstrip("=")
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("utf-8")).digest())
        .decode("utf-8")
        .rstrip("=")
    )
    return verifier, challenge


def docs_flow(live_app, redirect_uri):
    base = live_app.server.url
    verifier, challenge = generate_pkce()
    state = secrets.token_hex(16)
    auth_url = (
        f"{base}/api/oauth/authorize"
        f"?client_id={live_app.client_id}"
        f"&redirect_uri={redirect_uri}"
        f"&response_type=code"
        f"&scope=profile:read galleries:read"
        f"&state={state}"
        f"&code_challenge={challenge}"
        f"&code_challenge_method=S256"
    )
    callback = browser_approve(auth_url, email=live_app.email)
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [state]
    return query["code"][0], verifier


def test_docs_python_example_request_shapes_work(live_app):
    base = live_app.server.url
    redirect_uri = "http://localhost:5000/callback"
    code, verifier = docs_flow(live_app, redirect_uri)
    response = requests.post(
        f"{base}/api/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": live_app.client_id,
            "client_secret": live_app.client_secret,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    me = requests.get(
        f"{base}/api/v1/me", headers={"Authorization": f"Bearer {data['access_token']}"}, timeout=10
    )
    assert me.status_code == 200
    refreshed = requests.post(
        f"{base}/api/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": data["refresh_token"],
            "client_id": live_app.client_id,
            "client_secret": live_app.client_secret,
        },
        timeout=10,
    )
    assert refreshed.status_code == 200
    introspected = requests.post(
        f"{base}/api/oauth/introspect",
        json={
            "token": refreshed.json()["access_token"],
            "client_id": live_app.client_id,
            "client_secret": live_app.client_secret,
        },
        timeout=10,
    ).json()
    assert introspected["active"] is True
    assert introspected["scope"] == "profile:read galleries:read"
    revoked = requests.post(
        f"{base}/api/oauth/revoke",
        json={
            "token": refreshed.json()["access_token"],
            "client_id": live_app.client_id,
            "client_secret": live_app.client_secret,
        },
        timeout=10,
    )
    assert revoked.status_code == 200


def test_docs_troubleshooting_messages_verbatim(live_app):
    base = live_app.server.url
    wrong_uri = requests.get(
        f"{base}/api/oauth/authorize",
        params={
            "client_id": live_app.client_id,
            "redirect_uri": "http://localhost:5000/callback/",
            "response_type": "code",
            "scope": "profile:read",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert wrong_uri.status_code == 400
    assert "redirect_uri does not match any registered URIs" in wrong_uri.text

    code, _ = docs_flow(live_app, "http://localhost:5000/callback")
    bad_verifier = requests.post(
        f"{base}/api/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:5000/callback",
            "client_id": live_app.client_id,
            "client_secret": live_app.client_secret,
            "code_verifier": generate_pkce()[0],
        },
        timeout=10,
    )
    assert bad_verifier.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid code_verifier",
    }

    bad_client = requests.post(
        f"{base}/api/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:5000/callback",
            "client_id": live_app.client_id,
            "client_secret": "not-the-secret",
            "code_verifier": "v" * 43,
        },
        timeout=10,
    )
    assert bad_client.status_code == 401
    assert bad_client.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client_id or client_secret",
    }


def test_tokens_survive_a_server_restart(live_app):
    base = live_app.server.url
    code, verifier = docs_flow(live_app, "http://localhost:5000/callback")
    tokens = requests.post(
        f"{base}/api/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:5000/callback",
            "client_id": live_app.client_id,
            "client_secret": live_app.client_secret,
            "code_verifier": verifier,
        },
        timeout=10,
    ).json()
    # a real restart: this process ends, a new one serves the same port, data and database
    old_pid = live_app.server.process.pid
    live_app.server.restart()
    assert live_app.server.process.pid != old_pid
    me = requests.get(
        f"{base}/api/v1/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 200
    refreshed = requests.post(
        f"{base}/api/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": live_app.client_id,
            "client_secret": live_app.client_secret,
        },
        timeout=10,
    )
    assert refreshed.status_code == 200, refreshed.text


def test_server_log_holds_no_token_code_or_secret(live_app):
    # runs after the flows above in this module: the access log drops query strings
    docs_flow(live_app, "http://localhost:5000/callback")
    # The access log is written in batches (web/access_log.py): wait for the flow's lines.
    deadline = time.monotonic() + 30
    while "POST /api/oauth/token" not in (log := live_app.server.log()):
        assert time.monotonic() < deadline, "the access log never showed the flow"
        time.sleep(0.05)
    assert "GET /api/oauth/authorize" in log
    for marker in (
        "pks_at_",
        "pks_rt_",
        "pks_ac_",
        "pks_cs_",
        "code_challenge=",
        live_app.client_secret,
    ):
        assert marker not in log
