"""RFC 9101 §6.3 and response_mode at GET /api/oauth/authorize: refused, never ignored, and
redirected with state and iss once the redirect URI is verified (RFC 6749 §4.1.2.1, RFC 9207)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.conftest import ISSUER
from tests.support.pkce import pkce_pair


@pytest.mark.parametrize(
    ("extra", "error", "description"),
    [
        (
            {"request": "eyJhbGciOiJub25lIn0.eyJzY29wZSI6ImFkbWluIn0."},
            "request_not_supported",
            "Request objects (the request parameter) are not supported",
        ),
        (
            {"request_uri": "urn:ietf:params:oauth:request_uri:abc"},
            "request_uri_not_supported",
            "The request_uri parameter is not supported",
        ),
        ({"response_mode": "fragment"}, "invalid_request", "response_mode must be query"),
        ({"response_mode": "form_post"}, "invalid_request", "response_mode must be query"),
    ],
)
async def test_request_objects_and_other_response_modes_are_redirected_errors(
    driver, registered, http, extra, error, description
):
    _, challenge = pkce_pair()
    params = {**driver.authorize_params(registered, code_challenge=challenge), **extra}
    response = await http.get("/api/oauth/authorize?" + urlencode(params))
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == registered.redirect_uri
    assert parse_qs(location.query) == {
        "error": [error],
        "error_description": [description],
        "state": ["state-123"],
        "iss": [ISSUER],
    }


async def test_response_mode_query_is_accepted_and_reaches_the_consent_screen(
    driver, registered, http
):
    _, challenge = pkce_pair()
    params = {
        **driver.authorize_params(registered, code_challenge=challenge),
        "response_mode": "query",
    }
    response = await http.get("/api/oauth/authorize?" + urlencode(params))
    assert response.status_code == 200
    assert 'name="pending_id"' in response.text


async def test_a_request_object_with_an_unregistered_redirect_uri_is_never_redirected(
    driver, registered, http
):
    _, challenge = pkce_pair()
    params = {
        **driver.authorize_params(registered, code_challenge=challenge),
        "redirect_uri": "https://evil.example/cb",
        "request": "x.y.z",
    }
    response = await http.get("/api/oauth/authorize?" + urlencode(params))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri does not match any registered URIs" in response.text
