"""Real third-party OAuth client libraries against a real ``piksend serve`` over loopback."""

from __future__ import annotations

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests_oauthlib import OAuth2Session as OAuthlibSession

from tests.conformance.conftest import browser_approve

pytestmark = pytest.mark.live


def test_authlib_runs_the_whole_flow(live_app):
    base = live_app.server.url
    metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
    client = AuthlibSession(
        live_app.client_id,
        live_app.client_secret,
        scope="profile:read galleries:read",
        redirect_uri=live_app.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier
    )
    callback = browser_approve(url, email=live_app.email)
    assert f"iss={requests.utils.quote(base, safe='')}" in callback
    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "profile:read galleries:read"

    me = client.get(f"{base}/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == live_app.email

    old_refresh = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh
    assert client.get(f"{base}/api/v1/me").status_code == 200

    introspection = client.introspect_token(
        metadata["introspection_endpoint"], token=refreshed["access_token"]
    ).json()
    assert introspection["active"] is True
    assert introspection["client_id"] == live_app.client_id
    assert introspection["username"] == live_app.email

    revoked = client.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"])
    assert revoked.status_code == 200
    after = client.get(f"{base}/api/v1/me")
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["www-authenticate"]


def test_authlib_with_client_secret_post(live_app):
    base = live_app.server.url
    client = AuthlibSession(
        live_app.client_id,
        live_app.client_secret,
        scope="profile:read",
        redirect_uri=live_app.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
    )
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        f"{base}/api/oauth/authorize", code_verifier=verifier
    )
    callback = browser_approve(url, email=live_app.email)
    token = client.fetch_token(
        f"{base}/api/oauth/token",
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )
    assert token["scope"] == "profile:read"


def test_requests_oauthlib_runs_the_whole_flow_with_one_scope_unticked(live_app):
    base = live_app.server.url
    session = OAuthlibSession(
        live_app.client_id,
        redirect_uri=live_app.redirect_uri,
        scope=["profile:read", "galleries:read"],
        pkce="S256",
    )
    url, _state = session.authorization_url(f"{base}/api/oauth/authorize")
    callback = browser_approve(url, email=live_app.email, scopes=["profile:read"])
    token = session.fetch_token(
        f"{base}/api/oauth/token",
        authorization_response=callback,
        client_secret=live_app.client_secret,
        include_client_id=True,
    )
    assert token["scope"] == ["profile:read"]
    assert session.get(f"{base}/api/v1/me").status_code == 200
    # requests-oauthlib re-sends the scope it first asked for on refresh; RFC 6749 §6 forbids
    # a refresh wider than the grant, so a client must ask for what it was granted.
    session.scope = token["scope"]
    refreshed = session.refresh_token(
        f"{base}/api/oauth/token", auth=(live_app.client_id, live_app.client_secret)
    )
    assert refreshed["access_token"] != token["access_token"]
    assert session.get(f"{base}/api/v1/me").status_code == 200


def test_requests_oauthlib_refresh_asking_for_more_than_granted_is_invalid_scope(live_app):
    base = live_app.server.url
    session = OAuthlibSession(
        live_app.client_id,
        redirect_uri=live_app.redirect_uri,
        scope=["profile:read", "galleries:read"],
        pkce="S256",
    )
    url, _ = session.authorization_url(f"{base}/api/oauth/authorize")
    callback = browser_approve(url, email=live_app.email, scopes=["profile:read"])
    session.fetch_token(
        f"{base}/api/oauth/token",
        authorization_response=callback,
        client_secret=live_app.client_secret,
        include_client_id=True,
    )
    from oauthlib.oauth2.rfc6749.errors import InvalidScopeError

    with pytest.raises(InvalidScopeError):
        session.refresh_token(
            f"{base}/api/oauth/token", auth=(live_app.client_id, live_app.client_secret)
        )
