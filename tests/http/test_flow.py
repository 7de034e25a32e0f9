"""The whole Authorization Code + PKCE flow through the ASGI app, in the docs' request shapes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.conftest import ISSUER


async def test_code_flow_with_json_bodies_issues_tokens_that_open_the_api(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    assert auth.state == "state-123"
    assert parse_qs(urlsplit(auth.location).query)["iss"] == [ISSUER]
    response = await driver.exchange(registered, auth)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "profile:read galleries:read galleries:write"
    assert body["access_token"].startswith("pks_at_")
    assert body["refresh_token"].startswith("pks_rt_")
    assert response.headers["cache-control"] == "no-store"
    me = await driver.me(body["access_token"])
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"
    assert set(me.json()) == {"id", "name", "email", "email_verified", "avatar_url"}


async def test_form_encoded_exchange_works_like_json(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    response = await driver.exchange(registered, auth, form=True)
    assert response.status_code == 200, response.text


async def test_basic_client_authentication_is_accepted(driver, registered, http):
    auth = await driver.authorize_and_approve(registered)
    response = await http.post(
        "/api/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": auth.code,
            "redirect_uri": auth.redirect_uri,
            "code_verifier": auth.verifier,
        },
        auth=(registered.client_id, registered.client_secret),
    )
    assert response.status_code == 200, response.text


async def test_user_may_grant_fewer_scopes_than_asked(driver, registered):
    tokens = await driver.tokens(registered, scopes=["galleries:read"])
    assert tokens["scope"] == "galleries:read"
    me = await driver.me(tokens["access_token"])
    assert me.status_code == 403
    assert me.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="insufficient_scope", '
        'error_description="This request needs the profile:read scope", scope="profile:read", '
        'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/api/v1"'
    )


async def test_refresh_rotates_and_narrows_scope(driver, registered):
    tokens = await driver.tokens(registered)
    response = await driver.refresh(registered, tokens["refresh_token"], scope="profile:read")
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert fresh["scope"] == "profile:read"
    assert fresh["refresh_token"] != tokens["refresh_token"]
    # the new refresh token keeps the original grant's scope (RFC 6749 §6)
    again = await driver.refresh(registered, fresh["refresh_token"])
    assert again.json()["scope"] == "profile:read galleries:read galleries:write"


async def test_refresh_cannot_widen_scope(driver, registered):
    tokens = await driver.tokens(registered, scopes=["profile:read"])
    response = await driver.refresh(
        registered, tokens["refresh_token"], scope="profile:read galleries:read"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_scope",
        "error_description": "The requested scope exceeds the scope originally granted",
    }


async def test_introspection_reports_active_token_metadata(driver, registered, alice, clock):
    tokens = await driver.tokens(registered)
    data = await driver.introspect(registered, tokens["access_token"])
    assert data == {
        "active": True,
        "scope": "profile:read galleries:read galleries:write",
        "client_id": registered.client_id,
        "username": "alice@example.com",
        "email_verified": False,
        "sub": alice.id,
        "token_type": "Bearer",
        "exp": int(clock.now.timestamp()) + 3600,
        "iat": int(clock.now.timestamp()),
        "iss": ISSUER,
        "aud": ISSUER + "/api/v1",  # RFC 8707: no resource named means the API
    }


async def test_revoking_refresh_token_revokes_its_access_tokens(driver, registered):
    tokens = await driver.tokens(registered)
    response = await driver.revoke(registered, tokens["refresh_token"])
    assert response.status_code == 200
    assert (await driver.introspect(registered, tokens["access_token"])) == {"active": False}
    assert (await driver.me(tokens["access_token"])).status_code == 401
    refreshed = await driver.refresh(registered, tokens["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"


async def test_revoking_access_token_leaves_refresh_token_usable(driver, registered):
    tokens = await driver.tokens(registered)
    assert (await driver.revoke(registered, tokens["access_token"])).status_code == 200
    assert (await driver.me(tokens["access_token"])).status_code == 401
    assert (await driver.refresh(registered, tokens["refresh_token"])).status_code == 200


async def test_revoking_unknown_token_answers_200(driver, registered):
    response = await driver.revoke(registered, "pks_at_nonsense")
    assert response.status_code == 200


async def test_access_token_expires_after_one_hour(driver, registered, clock):
    tokens = await driver.tokens(registered)
    clock.advance(3599)
    assert (await driver.me(tokens["access_token"])).status_code == 200
    clock.advance(2)
    response = await driver.me(tokens["access_token"])
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="invalid_token", '
        'error_description="The access token has expired", scope="profile:read", '
        'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/api/v1"'
    )


async def test_deny_redirects_with_access_denied_state_and_iss(driver, registered):
    from tests.support.pkce import pkce_pair

    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    response = await driver.decide(page, "deny")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == registered.redirect_uri
    assert parse_qs(location.query) == {
        "error": ["access_denied"],
        "error_description": ["The user denied the request"],
        "state": ["state-123"],
        "iss": [ISSUER],
    }


async def test_consent_is_asked_on_every_request(driver, registered):
    await driver.tokens(registered)
    from tests.support.pkce import pkce_pair

    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert page.status_code == 200
    assert 'name="pending_id"' in page.text
