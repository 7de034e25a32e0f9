"""A JSON key given twice is refused, as a form parameter given twice is (RFC 6749 §3.1, §3.2).

``json.loads`` alone keeps the last of two equal names: ``{"refresh_token": "bogus",
"refresh_token": "<real>"}`` would be read as the real token while anything that read the first
one saw another request. Every JSON body the server reads refuses it instead.
"""

from __future__ import annotations

import json

import pytest


def duplicated(pairs: list[tuple[str, str]]) -> bytes:
    """A JSON object with ``pairs`` in order, repeated names kept (a dict cannot hold them)."""
    return ("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}").encode()


def credentials(app) -> list[tuple[str, str]]:
    return [("client_id", app.client_id), ("client_secret", app.client_secret)]


async def post_json(http, path: str, body: bytes, content_type="application/json", headers=None):
    headers = {**(headers or {}), "content-type": content_type}
    return await http.post(path, content=body, headers=headers)


async def test_a_refresh_token_given_twice_in_json_is_refused_and_not_spent(
    http, driver, registered
):
    tokens = await driver.tokens(registered)
    body = duplicated(
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", "bogus"),
            ("refresh_token", tokens["refresh_token"]),
            *credentials(registered),
        ]
    )
    response = await post_json(http, "/api/oauth/token", body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Parameter refresh_token was given more than once",
    }
    assert response.headers["cache-control"] == "no-store"
    # the real token was never read: it still rotates once, normally
    assert (await driver.refresh(registered, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize("name", ["grant_type", "client_id", "client_secret", "code"])
async def test_any_token_request_parameter_given_twice_in_json_is_invalid_request(
    http, driver, registered, name
):
    auth = await driver.authorize_and_approve(registered)
    pairs = [
        ("grant_type", "authorization_code"),
        ("code", auth.code),
        ("redirect_uri", auth.redirect_uri),
        ("code_verifier", auth.verifier),
        *credentials(registered),
    ]
    value = dict(pairs)[name]
    response = await post_json(
        http,
        "/api/oauth/token",
        duplicated([*pairs, (name, value)]),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"Parameter {name} was given more than once",
    }
    # the code was not redeemed by the refused request
    assert (await driver.exchange(registered, auth)).status_code == 200


async def test_revoking_with_a_token_given_twice_in_json_is_refused_and_revokes_nothing(
    http, driver, registered
):
    tokens = await driver.tokens(registered)
    body = duplicated(
        [("token", tokens["access_token"]), ("token", "other"), *credentials(registered)]
    )
    response = await post_json(http, "/api/oauth/revoke", body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Parameter token was given more than once",
    }
    assert (await driver.me(tokens["access_token"])).status_code == 200


async def test_introspecting_with_a_token_given_twice_in_json_is_refused(http, driver, registered):
    tokens = await driver.tokens(registered)
    body = duplicated(
        [("token", "unknown"), ("token", tokens["access_token"]), *credentials(registered)]
    )
    response = await post_json(http, "/api/oauth/introspect", body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Parameter token was given more than once",
    }


async def test_creating_a_gallery_with_a_key_given_twice_is_refused_and_creates_nothing(
    http, driver, registered
):
    tokens = await driver.tokens(registered)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    body = duplicated([("title", "Shown to the moderator"), ("title", "Stored")])
    response = await post_json(http, "/api/v1/galleries", body, headers=bearer)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Key title was given more than once in an object",
    }
    listing = await http.get("/api/v1/galleries", headers=bearer)
    assert listing.status_code == 200
    assert listing.json()["data"] == []


async def test_updating_a_gallery_with_a_key_given_twice_is_refused_and_changes_nothing(
    http, driver, registered
):
    tokens = await driver.tokens(registered)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    created = await http.post(
        "/api/v1/galleries", json={"title": "Private", "visibility": "private"}, headers=bearer
    )
    assert created.status_code == 201
    gallery = created.json()
    body = duplicated([("visibility", "private"), ("visibility", "public")])
    response = await http.patch(
        f"/api/v1/galleries/{gallery['id']}",
        content=body,
        headers={**bearer, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Key visibility was given more than once in an object",
    }
    after = await http.get(f"/api/v1/galleries/{gallery['id']}", headers=bearer)
    assert after.json() == gallery


async def test_a_json_body_without_repeated_keys_still_reaches_the_api(http, driver, registered):
    tokens = await driver.tokens(registered)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    body = duplicated([("title", "Alps"), ("description", "title")])
    response = await post_json(http, "/api/v1/galleries", body, headers=bearer)
    assert response.status_code == 201
    assert (response.json()["title"], response.json()["description"]) == ("Alps", "title")
