"""Dynamic registration under PIKSEND_DYNAMIC_REGISTRATION=open (issue 13, item 4): a
confidential app registers with client_secret_basic and an https redirect, gets its secret once,
and authenticates with it at the token endpoint, on both databases."""

from __future__ import annotations

import pytest

from tests.support.driver import RegisteredApp

WEB_APP = {
    "client_name": "Hosted Assistant",
    "redirect_uris": ["https://assistant.example/oauth/callback"],
    "token_endpoint_auth_method": "client_secret_basic",
    "scope": "profile:read",
}


@pytest.fixture
def settings(settings):
    return settings.with_(dynamic_registration="open")


async def test_a_confidential_app_registers_itself_and_uses_its_secret(http, driver, alice):
    response = await http.post("/api/oauth/register", json=WEB_APP)

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (
        answer["token_endpoint_auth_method"],
        answer["client_secret"].startswith("pks_cs_"),
        answer["client_secret_expires_at"],
    ) == ("client_secret_basic", True, 0)
    app = RegisteredApp(
        answer["client_id"], answer["client_secret"], WEB_APP["redirect_uris"][0], "profile:read"
    )
    auth = await driver.authorize_and_approve(app)
    exchanged = await driver.exchange(app, auth)
    assert exchanged.status_code == 200, exchanged.text
    wrong = RegisteredApp(app.client_id, "pks_cs_wrong", app.redirect_uri, app.scopes)
    refused = await driver.refresh(wrong, exchanged.json()["refresh_token"])
    assert refused.status_code == 401


async def test_reading_a_confidential_app_never_shows_its_secret_again(http):
    answer = (await http.post("/api/oauth/register", json=WEB_APP)).json()
    uri = answer["registration_client_uri"].removeprefix("http://127.0.0.1:8000")

    read = await http.get(
        uri, headers={"authorization": f"Bearer {answer['registration_access_token']}"}
    )

    assert (read.status_code, "client_secret" in read.json()) == (200, False)
