"""Bad input at the token, revocation and introspection endpoints: a clear 4xx, never a 500."""

from __future__ import annotations

import base64

import pytest


def creds(app):
    return {"client_id": app.client_id, "client_secret": app.client_secret}


async def test_wrong_secret_is_401_with_the_docs_message(http, registered):
    response = await http.post(
        "/api/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": registered.client_id,
            "client_secret": "wrong",
        },
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client_id or client_secret",
    }
    assert "www-authenticate" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_wrong_basic_secret_is_401_with_a_basic_challenge(http, registered):
    response = await http.post(
        "/api/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(registered.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error_description"] == "Invalid client_id or client_secret"
    assert response.headers["www-authenticate"] == 'Basic realm="piksend", charset="UTF-8"'


async def test_wrong_code_verifier_gives_the_docs_message(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    response = await driver.exchange(registered, auth, code_verifier="A" * 43)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid code_verifier",
    }


@pytest.mark.parametrize(
    ("content", "content_type", "description"),
    [
        (b"{not json", "application/json", "The request body is not valid JSON"),
        (b"[1, 2]", "application/json", "The JSON body must be an object"),
        (b'{"grant_type": 5}', "application/json", "Parameter grant_type must be a string"),
        (b'{"grant_type": ["a"]}', "application/json", "Parameter grant_type must be a string"),
        (b"\xff\xfe", "application/json", "The request body is not valid JSON"),
        (
            b"grant_type=a&grant_type=b",
            "application/x-www-form-urlencoded",
            "Parameter grant_type was given more than once",
        ),
        (
            b"grant_type=%ff",
            "application/x-www-form-urlencoded",
            "The request body is not valid form data",
        ),
        (
            b"<xml/>",
            "application/xml",
            "Content-Type must be application/x-www-form-urlencoded or application/json",
        ),
        (
            b"grant_type=x",
            "text/plain",
            "Content-Type must be application/x-www-form-urlencoded or application/json",
        ),
        (b"", "application/json", "grant_type is required"),
        (
            b'{"grant_type": "refresh_token", "client_id": "' + b"a" * 5000 + b'"}',
            "application/json",
            "Parameter client_id is too long",
        ),
    ],
)
async def test_malformed_bodies_are_invalid_request(http, content, content_type, description):
    response = await http.post(
        "/api/oauth/token", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": description}


async def test_parameter_in_both_query_and_body_is_invalid_request(http, registered):
    response = await http.post(
        "/api/oauth/token?grant_type=refresh_token",
        data={"grant_type": "refresh_token", **creds(registered)},
    )
    assert response.status_code == 400
    assert response.json()["error_description"] == "Parameter grant_type was given more than once"


async def test_client_secret_in_the_query_is_refused(http, registered):
    response = await http.post(
        f"/api/oauth/token?client_secret={registered.client_secret}",
        data={"grant_type": "refresh_token", "client_id": registered.client_id},
    )
    assert response.status_code == 400
    assert (
        response.json()["error_description"]
        == "Parameter client_secret must be sent in the request body"
    )


async def test_body_over_the_limit_is_413(http):
    response = await http.post(
        "/api/oauth/token",
        content=b"a=" + b"x" * (70 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_chunked_body_over_the_limit_is_413(http):
    async def chunks():
        for _ in range(100):
            yield b"x" * 1024

    response = await http.post(
        "/api/oauth/token", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_empty_value_counts_as_omitted(http, registered):
    response = await http.post("/api/oauth/token", data={"grant_type": "", **creds(registered)})
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "grant_type is required",
    }


async def test_get_on_the_token_endpoint_is_a_json_405(http):
    response = await http.get("/api/oauth/token")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


async def test_unsupported_grant_type(http, registered):
    response = await http.post(
        "/api/oauth/token", json={"grant_type": "password", **creds(registered)}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_revoke_and_introspect_require_client_authentication(http):
    for path in ("/api/oauth/revoke", "/api/oauth/introspect"):
        response = await http.post(path, json={"token": "x"})
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


async def test_revoke_and_introspect_accept_form_and_basic(http, driver, registered):
    tokens = await driver.tokens(registered)
    introspected = await http.post(
        "/api/oauth/introspect",
        data={"token": tokens["access_token"]},
        auth=(registered.client_id, registered.client_secret),
    )
    assert introspected.json()["active"] is True
    revoked = await http.post(
        "/api/oauth/revoke",
        data={"token": tokens["access_token"], "token_type_hint": "access_token"},
        auth=(registered.client_id, registered.client_secret),
    )
    assert revoked.status_code == 200
    assert (await driver.introspect(registered, tokens["access_token"])) == {"active": False}


async def test_revoke_without_token_is_invalid_request(http, registered):
    response = await http.post("/api/oauth/revoke", json=creds(registered))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "token is required"}


async def test_introspecting_garbage_reads_inactive(http, registered):
    response = await http.post(
        "/api/oauth/introspect", json={"token": "garbage", **creds(registered)}
    )
    assert response.json() == {"active": False}


# RFC 6750 §3 and RFC 9728 §5.1: the scope the request needs and where the API's metadata is.
NEEDS_PROFILE = (
    'scope="profile:read", '
    'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/api/v1"'
)


@pytest.mark.parametrize(
    ("header", "challenge"),
    [
        (None, 'Bearer realm="piksend", ' + NEEDS_PROFILE),
        (
            "Bearer pks_at_unknown",
            'Bearer realm="piksend", error="invalid_token", error_description="The access token is invalid", '
            + NEEDS_PROFILE,
        ),
        (
            "Bearer " + "x" * 1000,
            'Bearer realm="piksend", error="invalid_token", error_description="The access token is malformed", '
            + NEEDS_PROFILE,
        ),
        ("Basic " + base64.b64encode(b"a:b").decode(), 'Bearer realm="piksend", ' + NEEDS_PROFILE),
    ],
)
async def test_api_rejects_requests_without_a_valid_bearer_token(http, header, challenge):
    headers = {"authorization": header} if header else {}
    response = await http.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert set(response.json()) == {"error", "error_description"}


async def test_unknown_api_path_is_json_404(http):
    response = await http.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "error_description": "Not found"}


async def test_metadata_lists_what_is_supported(http):
    response = await http.get("/.well-known/oauth-authorization-server")
    data = response.json()
    assert data["issuer"] == "http://127.0.0.1:8000"
    assert data["token_endpoint"] == "http://127.0.0.1:8000/api/oauth/token"
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert data["response_types_supported"] == ["code"]
    assert data["authorization_response_iss_parameter_supported"] is True
    assert data["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert data["revocation_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    # RFC 7662 §2.1: introspection only for authenticated clients
    assert data["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]


async def test_json_nested_too_deeply_to_parse_is_invalid_request_not_a_server_error(http):
    deep = b"[" * 30_000 + b"]" * 30_000  # under the body limit; too deep for the parser
    response = await http.post(
        "/api/oauth/token", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request body is not valid JSON",
    }


async def test_an_access_token_introspects_inactive_from_the_second_it_expires(
    http, driver, registered, clock
):
    tokens = await driver.tokens(registered)
    issued = int(clock.now.timestamp())
    clock.advance(tokens["expires_in"] - 1)
    alive = await driver.introspect(registered, tokens["access_token"])
    assert (alive["active"], alive["iat"], alive["exp"]) == (
        True,
        issued,
        issued + tokens["expires_in"],
    )
    clock.advance(1)  # RFC 7662 §2.2: an expired token is not active
    assert (await driver.introspect(registered, tokens["access_token"])) == {"active": False}
    assert (await driver.me(tokens["access_token"])).status_code == 401
    # the refresh token lives longer and still reads active
    assert (await driver.introspect(registered, tokens["refresh_token"]))["active"] is True


async def test_a_refresh_token_introspects_inactive_once_expired(driver, registered, clock):
    tokens = await driver.tokens(registered)
    clock.advance(driver.ctx.policy.refresh_token_ttl)
    assert (await driver.introspect(registered, tokens["refresh_token"])) == {"active": False}


NO_STORE = ("no-store", "no-cache")


async def test_successful_introspection_answers_are_never_cached(http, driver, registered):
    tokens = await driver.tokens(registered)
    for token in (tokens["access_token"], "unknown"):
        response = await http.post(
            "/api/oauth/introspect", json={"token": token, **creds(registered)}
        )
        assert response.status_code == 200
        # RFC 7662 §2.2 carries RFC 6749 §5.1's rule: token metadata is never stored by caches
        assert (response.headers["cache-control"], response.headers["pragma"]) == NO_STORE


async def test_successful_revocation_answers_are_never_cached(http, driver, registered):
    tokens = await driver.tokens(registered)
    for token in (tokens["refresh_token"], "unknown"):
        response = await http.post("/api/oauth/revoke", json={"token": token, **creds(registered)})
        assert (response.status_code, response.json()) == (200, {})
        assert (response.headers["cache-control"], response.headers["pragma"]) == NO_STORE


async def test_token_responses_and_errors_are_never_cached(http, driver, registered):
    auth = await driver.authorize_and_approve(registered)
    issued = await driver.exchange(registered, auth)
    replayed = await driver.exchange(registered, auth)
    assert (issued.status_code, replayed.status_code) == (200, 400)
    for response in (issued, replayed):
        # RFC 6749 §5.1 and §5.2
        assert (response.headers["cache-control"], response.headers["pragma"]) == NO_STORE
