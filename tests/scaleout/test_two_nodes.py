"""Two ``piksend serve`` processes on one PostgreSQL behave as one server.

Nothing that must be shared lives in a process: codes, rotation and reuse state, revocations
and sign-in throttles are all rows in the database, so whichever node a request reaches
gives the same answer.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.support import db as testdb
from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.live import free_port, live_server

pytestmark = [pytest.mark.live, pytest.mark.postgres]
EMAIL, PASSWORD = "alice@example.com", "correct horse battery"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    url = testdb.pg_url()
    if url is None:
        pytest.skip(testdb.PG_SKIP_REASON + " (two nodes need one shared PostgreSQL)")
    database = testdb.create_pg_database(url)
    # Every node needs the same secret key (CSRF and cookies) and the same database.
    # Reuse detection itself, no grace retries (tests/http/test_refresh_grace.py).
    # ... and, behind one load balancer, one public URL: the issuer, and the resource every
    # token is bound to (RFC 8707), so a token from node A is for node B's API too.
    port_a = free_port()
    shared = {
        "PIKSEND_PUBLIC_URL": f"http://127.0.0.1:{port_a}",
        "PIKSEND_SECRET_KEY": secrets.token_urlsafe(32),
        "PIKSEND_TRIM_INTERVAL": "0",
        "PIKSEND_REFRESH_GRACE_SECONDS": "0",
    }
    try:
        # B starts after A has migrated the empty database, so they never race to.
        with (
            live_server(tmp_path_factory.mktemp("node-a"), database, port=port_a, **shared) as a,
            live_server(tmp_path_factory.mktemp("node-b"), database, **shared) as b,
        ):
            a.cli("users", "create", "--email", EMAIL, "--password", PASSWORD)
            app = a.cli(
                "apps",
                "create",
                "--owner",
                EMAIL,
                "--name",
                "Two Nodes",
                "--redirect-uri",
                "https://app.example.com/callback",
                "--scopes",
                "profile:read galleries:read",
            )
            registered = RegisteredApp(
                app["client_id"],
                app["client_secret"],
                "https://app.example.com/callback",
                "profile:read galleries:read",
            )
            yield a, b, registered
    finally:
        testdb.drop_pg_database(database)


async def _tokens_from(node_url: str, registered: RegisteredApp) -> dict:
    async with httpx.AsyncClient(base_url=node_url) as http:
        driver = OAuthDriver(http, app=None)
        signed_in = await driver.sign_in(EMAIL, PASSWORD)
        assert signed_in.status_code == 303, signed_in.text[:300]
        return await driver.tokens(registered)


async def test_a_token_issued_by_one_node_introspects_as_active_on_the_other(nodes):
    a, b, registered = nodes
    tokens = await _tokens_from(a.url, registered)
    async with httpx.AsyncClient(base_url=b.url) as http_b:
        introspection = await OAuthDriver(http_b, app=None).introspect(
            registered, tokens["access_token"]
        )
        me = await OAuthDriver(http_b, app=None).me(tokens["access_token"])
    assert introspection["active"] is True
    assert introspection["username"] == EMAIL
    assert me.status_code == 200
    assert me.json()["email"] == EMAIL


async def test_a_refresh_token_rotated_on_one_node_is_detected_as_reused_on_the_other(nodes):
    a, b, registered = nodes
    tokens = await _tokens_from(a.url, registered)
    async with httpx.AsyncClient(base_url=a.url) as http_a:
        rotated = await OAuthDriver(http_a, app=None).refresh(registered, tokens["refresh_token"])
    assert rotated.status_code == 200
    async with httpx.AsyncClient(base_url=b.url) as http_b:
        driver_b = OAuthDriver(http_b, app=None)
        reused = await driver_b.refresh(registered, tokens["refresh_token"])
        successor = await driver_b.introspect(registered, rotated.json()["refresh_token"])
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": (
            "Refresh token has already been used; the authorization has been revoked"
        ),
    }
    assert successor == {"active": False}  # the whole family went with it, on every node


async def test_a_revocation_on_one_node_is_seen_at_once_by_the_other(nodes):
    a, b, registered = nodes
    tokens = await _tokens_from(a.url, registered)
    async with httpx.AsyncClient(base_url=b.url) as http_b:
        before = await OAuthDriver(http_b, app=None).me(tokens["access_token"])
    async with httpx.AsyncClient(base_url=a.url) as http_a:
        revoked = await OAuthDriver(http_a, app=None).revoke(registered, tokens["access_token"])
    async with httpx.AsyncClient(base_url=b.url) as http_b:
        driver_b = OAuthDriver(http_b, app=None)
        introspection = await driver_b.introspect(registered, tokens["access_token"])
        after = await driver_b.me(tokens["access_token"])
    assert before.status_code == 200
    assert revoked.status_code == 200
    assert introspection == {"active": False}
    assert after.status_code == 401
    assert after.json() == {
        "error": "invalid_token",
        "error_description": "The access token has been revoked",
    }
