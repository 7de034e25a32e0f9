"""Hostile or broken input anywhere: always a clear 4xx, never a 500 or a traceback."""

from __future__ import annotations

import pytest

GARBAGE_BODIES = [
    b"\x00\x01\x02\xff",
    b"{" * 10000,
    b'{"a": ' * 500 + b"1" + b"}" * 500,
    b"a=" + b"%" * 1000,
    b"&&&&===&&&",
    "grant_type=authorization_code&code=\u2603".encode(),
    # JSON escapes of lone UTF-16 surrogates: valid JSON, but no text (RFC 8259 §8.2).
    b'{"client_id": "\\ud800", "client_secret": "x", "token": "y", "grant_type": "refresh_token"}',
    b'{"client_id": "a", "client_secret": "x", "token": "\\udfff", "refresh_token": "\\udfff"}',
    b'{"\\ud800": "x", "client_id": "a", "client_secret": "b"}',
]


@pytest.mark.parametrize("path", ["/api/oauth/token", "/api/oauth/revoke", "/api/oauth/introspect"])
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("body", GARBAGE_BODIES)
async def test_garbage_bodies_get_a_json_4xx(http, path, content_type, body):
    response = await http.post(path, content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"error", "error_description"}


@pytest.mark.parametrize(
    "query",
    [
        "client_id=%ff%fe&redirect_uri=%00",
        "&".join(f"p{i}=x" for i in range(60)),
        "client_id=" + "a" * 5000,
        "client_id=a&client_id=b",
        "",
        "redirect_uri=javascript:alert(1)&client_id=x",
    ],
)
async def test_garbage_authorization_requests_get_an_html_4xx(http, query):
    response = await http.get("/api/oauth/authorize?" + query)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers


@pytest.mark.parametrize("path", ["/login", "/signup", "/api/oauth/consent", "/logout"])
async def test_form_posts_with_garbage_are_4xx(http, path):
    response = await http.post(
        path, content=b"\xff\xfe" * 100, headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert 400 <= response.status_code < 500


NOT_TEXT = {
    "error": "invalid_request",
    "error_description": "The JSON body holds a string that is not valid text",
}


def json_with_escapes(members: dict[str, str]) -> bytes:
    """A JSON object whose values are written as given: ``\\ud800`` stays an escape."""
    return ("{" + ", ".join(f'"{k}": "{v}"' for k, v in members.items()) + "}").encode()


@pytest.mark.parametrize("path", ["/api/oauth/revoke", "/api/oauth/introspect"])
@pytest.mark.parametrize("surrogate", ["\\ud800", "\\udfff", "a\\udc00b"])
async def test_a_lone_surrogate_in_the_token_with_valid_credentials_is_invalid_request(
    http, registered, path, surrogate
):
    body = json_with_escapes(
        {
            "token": surrogate,
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
        }
    )
    response = await http.post(path, content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (400, NOT_TEXT)


@pytest.mark.parametrize("path", ["/api/oauth/token", "/api/oauth/revoke", "/api/oauth/introspect"])
async def test_a_lone_surrogate_in_the_client_secret_of_a_real_client_is_invalid_request(
    http, registered, path
):
    body = json_with_escapes(
        {
            "grant_type": "refresh_token",
            "refresh_token": "r",
            "token": "t",
            "client_id": registered.client_id,
            "client_secret": registered.client_secret + "\\ud800",
        }
    )
    response = await http.post(path, content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (400, NOT_TEXT)


@pytest.mark.parametrize("name", ["refresh_token", "code", "code_verifier"])
async def test_a_lone_surrogate_in_a_grant_parameter_with_valid_credentials_is_invalid_request(
    http, registered, name
):
    members = {
        "grant_type": "refresh_token" if name == "refresh_token" else "authorization_code",
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
        "redirect_uri": registered.redirect_uri,
        "code": "c",
        "code_verifier": "v" * 43,
        "refresh_token": "r",
    }
    members[name] = "x\\udbff"
    response = await http.post(
        "/api/oauth/token",
        content=json_with_escapes(members),
        headers={"content-type": "application/json"},
    )
    assert (response.status_code, response.json()) == (400, NOT_TEXT)
