"""Real client libraries as public clients (``token_endpoint_auth_method: none``) against a live
``piksend serve``: Authlib in Python and oauth4webapi in Node, each authorizing with PKCE through
the real sign-in and consent pages, then exchanging, calling the API, refreshing and revoking with
their client_id and no secret (RFC 6749 §2.1, §4.1; RFC 7636; RFC 7009 §2.1; RFC 9700 §4.14.2)."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.support.live import free_port
from tests.support.public_client import (
    BACKENDS,
    NODE_DIR,
    SCOPES,
    create_user,
    galleries_status,
    live_on,
    node_or_skip,
    refresh_error,
    register_public_app,
    sign_in_and_approve,
)

pytestmark = pytest.mark.live

EMAIL = "pat@example.com"
# RFC 8252 §7.3: a loopback redirect URI registered without a port matches any port.
LOOPBACK_REDIRECT = "http://127.0.0.1/callback"
# RFC 8252 §7.1: a private-use URI scheme, reverse domain name of the app.
PRIVATE_USE_REDIRECT = "com.example.photos:/oauth/callback"


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    # Reuse detection itself, no grace retries (tests/http/test_refresh_grace.py).
    grace_off = {"PIKSEND_REFRESH_GRACE_SECONDS": "0"}
    with live_on(request.param, tmp_path_factory.mktemp("public"), **grace_off) as live:
        create_user(live, EMAIL)
        yield live


@pytest.fixture(scope="module")
def client_id(server) -> str:
    return register_public_app(
        server,
        owner=EMAIL,
        name="Pocket Photos",
        redirect_uris=[LOOPBACK_REDIRECT, PRIVATE_USE_REDIRECT],
    )


@pytest.fixture(scope="module")
def metadata(server) -> dict:
    return requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()


def authlib_public_client(client_id: str, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id,
        None,
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )


def authlib_tokens(client: OAuth2Session, metadata: dict) -> dict:
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier
    )
    callback = sign_in_and_approve(url, email=EMAIL)
    return client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )


def test_metadata_lists_none_among_the_token_endpoint_auth_methods(metadata):
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]


def test_authlib_as_a_public_client_exchanges_calls_the_api_refreshes_and_revokes(
    server, client_id, metadata
):
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client = authlib_public_client(client_id, redirect_uri)

    token = authlib_tokens(client, metadata)
    assert {k: token[k] for k in ("token_type", "expires_in", "scope")} == {
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": SCOPES,
    }
    created = client.post(f"{server.url}/api/v1/galleries", json={"title": "Harbour at dawn"})
    assert created.status_code == 201, created.text
    listed = client.get(f"{server.url}/api/v1/galleries")
    assert listed.status_code == 200
    assert [g["title"] for g in listed.json()["data"]] == ["Harbour at dawn"]

    old = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=old)
    assert refreshed["refresh_token"] != old
    assert refreshed["access_token"] != token["access_token"]
    assert client.get(f"{server.url}/api/v1/galleries").status_code == 200

    revoked = client.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"])
    assert revoked.status_code == 200
    after = client.get(f"{server.url}/api/v1/galleries")
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["www-authenticate"]
    assert refresh_error(server, client_id=client_id, refresh_token=refreshed["refresh_token"]) == {
        "error": "invalid_grant",
        "error_description": "Refresh token has been revoked",
    }


def test_a_public_clients_rotated_refresh_token_presented_again_revokes_the_whole_family(
    server, client_id, metadata
):
    client = authlib_public_client(client_id, f"http://127.0.0.1:{free_port()}/callback")
    token = authlib_tokens(client, metadata)
    refreshed = client.refresh_token(
        metadata["token_endpoint"], refresh_token=token["refresh_token"]
    )

    assert refresh_error(server, client_id=client_id, refresh_token=token["refresh_token"]) == {
        "error": "invalid_grant",
        "error_description": (
            "Refresh token has already been used; the authorization has been revoked"
        ),
    }
    assert galleries_status(server, refreshed["access_token"]) == 401
    assert refresh_error(server, client_id=client_id, refresh_token=refreshed["refresh_token"]) == {
        "error": "invalid_grant",
        "error_description": "Refresh token has been revoked",
    }


def test_a_public_client_cannot_introspect_even_its_own_token(server, client_id, metadata):
    client = authlib_public_client(client_id, f"http://127.0.0.1:{free_port()}/callback")
    token = authlib_tokens(client, metadata)

    answer = requests.post(
        metadata["introspection_endpoint"],
        data={"token": token["access_token"], "client_id": client_id},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_client",
        "error_description": (
            "Token introspection requires an authenticated client; a public client cannot use it"
        ),
    }
    assert galleries_status(server, token["access_token"]) == 200


def test_a_public_app_gets_its_code_at_a_private_use_scheme_redirect(server, client_id, metadata):
    client = authlib_public_client(client_id, PRIVATE_USE_REDIRECT)
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier
    )

    callback = sign_in_and_approve(url, email=EMAIL)
    parts = urlsplit(callback)
    assert f"{parts.scheme}:{parts.path}" == PRIVATE_USE_REDIRECT
    assert parse_qs(parts.query)["state"] == [state]
    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )
    assert galleries_status(server, token["access_token"]) == 200


def test_oauth4webapi_as_a_public_client_exchanges_refreshes_and_revokes(server, client_id):
    node = node_or_skip()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    script = subprocess.Popen(
        [node, str(NODE_DIR / "public_client.mjs"), server.url, client_id, redirect_uri, SCOPES],
        cwd=NODE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(script.stdout.readline() or "null")
        assert first is not None, script.stderr.read()
        callback = sign_in_and_approve(first["authorization_url"], email=EMAIL)
        out, err = script.communicate(f"{callback}\n", timeout=60)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    assert script.returncode == 0, err
    titles = [g["title"] for g in galleries_listing(server, client_id)]

    assert json.loads(out) == {
        "metadata": {
            "issuer": server.url,
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
        },
        "exchange": {
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": SCOPES,
            "has_refresh_token": True,
        },
        "galleries": {"status": 200, "titles": titles},
        "refresh": {
            "token_type": "bearer",
            "scope": SCOPES,
            "rotated": True,
            "new_access_token": True,
        },
        "galleries_after_refresh": {"status": 200, "titles": titles},
        "galleries_after_revocation": {"status": 401, "error": "invalid_token"},
        "refresh_after_revocation": {"status": 400, "error": "invalid_grant"},
    }


def galleries_listing(server, client_id: str) -> list[dict]:
    """The user's galleries as the API lists them now, read with a fresh public-client token."""
    client = authlib_public_client(client_id, f"http://127.0.0.1:{free_port()}/callback")
    metadata = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10)
    authlib_tokens(client, metadata.json())
    listed = client.get(f"{server.url}/api/v1/galleries")
    assert listed.status_code == 200
    return listed.json()["data"]
