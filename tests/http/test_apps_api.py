"""The app-management JSON API: session + X-CSRF-Token only, JSON errors, secrets shown once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from piksend.oauth import tokens
from piksend.storage import tables as t
from tests.support.driver import RegisteredApp

API = "/api/v1/oauth/apps"
NEW_APP = {
    "name": "Automation",
    "description": "Made by a script",
    "redirect_uris": ["https://bot.example.com/cb", "http://localhost:8080/cb"],
    "scopes": ["profile:read", "images:read"],
}


async def csrf_header(http) -> dict[str, str]:
    listing = await http.get(API)
    assert listing.status_code == 200, listing.text
    return {"x-csrf-token": listing.headers["x-csrf-token"]}


async def test_api_refuses_a_visitor_without_a_session(http):
    response = await http.get(API)
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized",
        "error_description": "Sign in to PikSend first",
    }


async def test_api_refuses_bearer_tokens_even_with_a_session(http, driver, registered):
    issued = await driver.tokens(registered)
    response = await http.get(API, headers={"authorization": f"Bearer {issued['access_token']}"})
    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "error_description": "App management accepts only a signed-in PikSend session with an "
        "X-CSRF-Token header; bearer tokens and other credentials are refused",
    }


async def test_api_refuses_unsafe_methods_without_the_csrf_header(http, alice):
    response = await http.post(API, json=NEW_APP)
    assert response.status_code == 403
    assert response.json() == {
        "error": "csrf_failed",
        "error_description": "This form has expired. Go back, reload the page and try again.",
    }


async def test_api_refuses_a_wrong_csrf_header(http, alice):
    response = await http.post(API, json=NEW_APP, headers={"x-csrf-token": "0" * 64})
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"


async def test_api_refuses_bodies_that_are_not_json(http, alice):
    headers = await csrf_header(http)
    response = await http.post(API, data={"name": "x"}, headers=headers)
    assert response.status_code == 415
    assert response.json() == {
        "error": "unsupported_media_type",
        "error_description": "Send a JSON body with Content-Type: application/json",
    }


async def test_api_creates_an_app_and_returns_its_secret_once(http, alice, app, driver):
    headers = await csrf_header(http)
    response = await http.post(API, json=NEW_APP, headers=headers)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    secret = body.pop("client_secret")
    assert body["name"] == "Automation"
    assert body["redirect_uris"] == NEW_APP["redirect_uris"]
    assert body["scopes"] == ["profile:read", "images:read"]
    async with app.state.ctx.db.unit_of_work() as s:
        row = await s.get(t.Client, body["client_id"])
    assert row.secret_digest == tokens.digest(secret)
    shown = await http.get(f"{API}/{body['client_id']}")
    assert "client_secret" not in shown.json()
    listed = await http.get(API)
    assert [a["client_id"] for a in listed.json()["apps"]] == [body["client_id"]]
    registered = RegisteredApp(
        body["client_id"], secret, "https://bot.example.com/cb", "profile:read images:read"
    )
    assert (await driver.tokens(registered))["scope"] == "profile:read images:read"


async def test_api_validation_errors_name_every_field(http, alice):
    headers = await csrf_header(http)
    response = await http.post(
        API,
        json={
            "name": "",
            "logo_url": "http://x.example.com/l.png",
            "redirect_uris": ["https://a.example.com/cb#f"],
            "scopes": [],
        },
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "error_description": "Application name is required",
        "field": "name",
        "fields": {
            "name": "Application name is required",
            "logo_url": "Logo URL must be an https URL",
            "redirect_uris": "Redirect URI must not contain a fragment: https://a.example.com/cb#f",
            "redirect_uris.0": "Redirect URI must not contain a fragment",
            "scopes": "Choose at least one scope",
        },
    }


async def test_api_refuses_unknown_fields(http, alice):
    headers = await csrf_header(http)
    response = await http.post(API, json={**NEW_APP, "owner_id": "usr_x"}, headers=headers)
    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "error_description": "Unknown field: owner_id",
        "field": "owner_id",
    }


async def test_api_patch_changes_only_the_given_fields(http, alice):
    headers = await csrf_header(http)
    created = (await http.post(API, json=NEW_APP, headers=headers)).json()
    response = await http.patch(
        f"{API}/{created['client_id']}",
        json={"name": "Renamed", "website_url": "https://bot.example.com"},
        headers=headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["website_url"], body["description"]) == (
        "Renamed",
        "https://bot.example.com",
        "Made by a script",
    )
    assert body["redirect_uris"] == NEW_APP["redirect_uris"]


async def test_api_rotation_answers_a_new_secret_and_the_grace_period(http, alice, clock):
    headers = await csrf_header(http)
    created = (await http.post(API, json=NEW_APP, headers=headers)).json()
    response = await http.post(
        f"{API}/{created['client_id']}/rotate-secret", json={"grace_seconds": 3600}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["client_secret"] != created["client_secret"]
    assert body["previous_secret_expires_at"] == (clock.now + timedelta(hours=1)).isoformat()
    too_long = await http.post(
        f"{API}/{created['client_id']}/rotate-secret",
        json={"grace_seconds": 8 * 24 * 3600},
        headers=headers,
    )
    assert too_long.status_code == 422
    assert too_long.json()["error_description"] == (
        "Grace period must be between 0 seconds and 7 days"
    )


async def test_api_delete_revokes_the_apps_tokens(http, alice, driver):
    headers = await csrf_header(http)
    created = (await http.post(API, json=NEW_APP, headers=headers)).json()
    registered = RegisteredApp(
        created["client_id"], created["client_secret"], "https://bot.example.com/cb", "profile:read"
    )
    issued = await driver.tokens(registered)
    response = await http.delete(f"{API}/{created['client_id']}", headers=headers)
    assert response.status_code == 204
    assert (await driver.me(issued["access_token"])).status_code == 401
    gone = await http.get(f"{API}/{created['client_id']}")
    assert gone.status_code == 404
    assert gone.json() == {"error": "not_found", "error_description": "No such application"}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_api_hides_other_users_apps(http, alice, driver, method):
    headers = await csrf_header(http)
    created = (await http.post(API, json=NEW_APP, headers=headers)).json()
    await driver.sign_out()
    await driver.sign_up("bob@example.com", "correct horse", "Bob")
    headers = await csrf_header(http)
    response = await http.request(
        method,
        f"{API}/{created['client_id']}",
        json={"name": "Mine now"} if method == "PATCH" else None,
        headers=headers,
    )
    assert response.status_code == 404


async def test_api_refuses_json_nested_too_deeply_to_parse_without_a_server_error(http, alice):
    headers = await csrf_header(http)
    deep = b"[" * 30_000 + b"]" * 30_000  # under the body limit; too deep for the parser
    response = await http.post(
        API, content=deep, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "error_description": "The request body is not valid JSON",
    }


PUBLIC_APP = {
    "name": "Photo frame",
    "client_type": "public",
    "redirect_uris": ["com.example.frame:/oauth2redirect", "https://frame.example.com/cb"],
    "scopes": ["profile:read"],
}


async def test_api_creates_a_public_app_without_a_secret(http, alice, app):
    headers = await csrf_header(http)
    response = await http.post(API, json=PUBLIC_APP, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert "client_secret" not in body
    assert (body["client_type"], body["token_endpoint_auth_method"], body["redirect_uris"]) == (
        "public",
        "none",
        ["com.example.frame:/oauth2redirect", "https://frame.example.com/cb"],
    )
    async with app.state.ctx.db.unit_of_work() as s:
        row = await s.get(t.Client, body["client_id"])
        assert (row.client_type, row.secret_digest) == ("public", None)


async def test_api_lists_a_confidential_apps_type_and_auth_method(http, alice):
    headers = await csrf_header(http)
    created = (await http.post(API, json=NEW_APP, headers=headers)).json()
    shown = (await http.get(f"{API}/{created['client_id']}")).json()
    assert (shown["client_type"], shown["token_endpoint_auth_method"]) == (
        "confidential",
        "client_secret_basic",
    )
    assert "client_secret" not in shown


async def test_api_refuses_a_private_use_scheme_for_a_confidential_app(http, alice):
    headers = await csrf_header(http)
    response = await http.post(
        API, json={**PUBLIC_APP, "client_type": "confidential"}, headers=headers
    )
    message = (
        "A private-use scheme redirect URI (like com.example.app:/callback) is only for apps "
        "that run in a browser or on a device: make this app public, or use an https redirect URI"
    )
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "validation_error",
            "error_description": f"{message}: com.example.frame:/oauth2redirect",
            "field": "redirect_uris",
            "fields": {
                "redirect_uris": f"{message}: com.example.frame:/oauth2redirect",
                "redirect_uris.0": message,
            },
        },
    )


async def test_api_refuses_an_unknown_client_type(http, alice):
    headers = await csrf_header(http)
    response = await http.post(API, json={**NEW_APP, "client_type": "native"}, headers=headers)
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "validation_error",
            "error_description": "client_type must be confidential or public",
            "field": "client_type",
        },
    )


async def test_api_patch_does_not_change_the_client_type(http, alice):
    headers = await csrf_header(http)
    created = (await http.post(API, json=NEW_APP, headers=headers)).json()
    response = await http.patch(
        f"{API}/{created['client_id']}", json={"client_type": "public"}, headers=headers
    )
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "validation_error",
            "error_description": "Change the client type with POST "
            "/api/v1/oauth/apps/{client_id}/client-type",
            "field": "client_type",
        },
    )


async def test_making_an_app_public_deletes_its_secrets_and_confidential_issues_one_once(
    http, alice, app, driver
):
    headers = await csrf_header(http)
    created = (await http.post(API, json=NEW_APP, headers=headers)).json()
    url = f"{API}/{created['client_id']}"
    await http.post(f"{url}/rotate-secret", json={"grace_seconds": 3600}, headers=headers)
    public = await http.post(f"{url}/client-type", json={"client_type": "public"}, headers=headers)
    assert public.status_code == 200, public.text
    body = public.json()
    assert "client_secret" not in body
    assert (body["client_type"], body["previous_secret_expires_at"]) == ("public", None)
    async with app.state.ctx.db.unit_of_work() as s:
        row = await s.get(t.Client, created["client_id"])
        assert (row.secret_digest, row.previous_secret_digest) == (None, None)
    back = await http.post(
        f"{url}/client-type", json={"client_type": "confidential"}, headers=headers
    )
    assert back.status_code == 200, back.text
    secret = back.json()["client_secret"]
    assert (back.json()["client_type"], back.json()["token_endpoint_auth_method"]) == (
        "confidential",
        "client_secret_basic",
    )
    async with app.state.ctx.db.unit_of_work() as s:
        row = await s.get(t.Client, created["client_id"])
        assert row.secret_digest == tokens.digest(secret)
    again = await http.post(
        f"{url}/client-type", json={"client_type": "confidential"}, headers=headers
    )
    assert (again.status_code, again.json()) == (
        422,
        {
            "error": "validation_error",
            "error_description": "This app is already confidential; rotate its secret to get "
            "a new one",
            "field": "client_type",
        },
    )


async def test_a_public_app_with_a_private_use_redirect_cannot_become_confidential(http, alice):
    headers = await csrf_header(http)
    created = (await http.post(API, json=PUBLIC_APP, headers=headers)).json()
    response = await http.post(
        f"{API}/{created['client_id']}/client-type",
        json={"client_type": "confidential"},
        headers=headers,
    )
    assert (response.status_code, response.json()["field"]) == (422, "redirect_uris")
    rotated = await http.post(f"{API}/{created['client_id']}/rotate-secret", headers=headers)
    assert (rotated.status_code, rotated.json()) == (
        422,
        {
            "error": "validation_error",
            "error_description": "A public app has no client secret to rotate; make it "
            "confidential to issue one",
        },
    )
