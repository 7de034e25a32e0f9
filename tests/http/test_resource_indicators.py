"""Resource indicators over HTTP (RFC 8707 §2): each token is bound to one resource, the API or
the MCP endpoint, and each resource refuses tokens bound to the other (piksend.oauth.resources)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.conftest import ISSUER
from tests.support.pkce import pkce_pair

API = ISSUER + "/api/v1"
MCP = ISSUER + "/mcp"
FOREIGN = "https://elsewhere.example/api/v1"
API_METADATA = ISSUER + "/.well-known/oauth-protected-resource/api/v1"


@pytest.mark.parametrize("resource", [API, MCP])
async def test_a_token_requested_for_a_resource_introspects_with_that_audience(
    driver, registered, resource
):
    tokens = await driver.tokens(registered, resource=resource)
    assert (await driver.introspect(registered, tokens["access_token"]))["aud"] == resource
    assert (await driver.introspect(registered, tokens["refresh_token"]))["aud"] == resource


async def test_a_request_naming_no_resource_gets_a_token_for_the_api(driver, registered):
    tokens = await driver.tokens(registered)
    assert (await driver.introspect(registered, tokens["access_token"]))["aud"] == API
    assert (await driver.me(tokens["access_token"])).status_code == 200


async def test_an_exchange_repeating_the_resource_gets_a_token_for_it(driver, registered):
    auth = await driver.authorize_and_approve(registered, resource=MCP)
    response = await driver.exchange(registered, auth, resource=MCP)
    assert response.status_code == 200, response.text
    assert (await driver.introspect(registered, response.json()["access_token"]))["aud"] == MCP


@pytest.mark.parametrize(
    ("resources", "description"),
    [
        ([FOREIGN], f"Unknown resource; this server's resources are {API} and {MCP}"),
        ([API + "#part"], "resource must be an absolute URI without a fragment"),
        (["/api/v1"], "resource must be an absolute URI without a fragment"),
        ([API, MCP], "Name one resource: a token is for exactly one resource"),
    ],
)
async def test_a_resource_that_is_not_one_of_ours_is_redirected_as_invalid_target(
    driver, registered, resources, description
):
    _, challenge = pkce_pair()
    params = [*driver.authorize_params(registered, code_challenge=challenge).items()]
    params += [("resource", r) for r in resources]
    response = await driver.http.get("/api/oauth/authorize?" + urlencode(params))
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == registered.redirect_uri
    assert parse_qs(location.query) == {
        "error": ["invalid_target"],
        "error_description": [description],
        "state": ["state-123"],
        "iss": [ISSUER],
    }


async def test_a_foreign_resource_at_the_token_endpoint_is_invalid_target(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    response = await driver.exchange(registered, auth, resource=FOREIGN)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_target",
        "error_description": f"Unknown resource; this server's resources are {API} and {MCP}",
    }
    assert response.headers["cache-control"] == "no-store"


async def test_two_resources_at_the_token_endpoint_are_invalid_target(driver, registered):
    auth = await driver.authorize_and_approve(registered)
    body = {
        "grant_type": "authorization_code",
        "code": auth.code,
        "redirect_uri": auth.redirect_uri,
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
        "code_verifier": auth.verifier,
    }
    form = urlencode([*body.items(), ("resource", API), ("resource", MCP)])
    response = await driver.http.post(
        "/api/oauth/token",
        content=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_target",
        "error_description": "Name one resource: a token is for exactly one resource",
    }


async def test_a_code_exchange_naming_another_resource_is_refused_and_the_code_kept(
    driver, registered
):
    auth = await driver.authorize_and_approve(registered, resource=API)
    refused = await driver.exchange(registered, auth, resource=MCP)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_target",
        "error_description": "resource must be the one the authorization was granted for",
    }
    # Nothing was claimed: the client may retry with the resource it asked for.
    retried = await driver.exchange(registered, auth)
    assert retried.status_code == 200, retried.text
    assert (await driver.introspect(registered, retried.json()["access_token"]))["aud"] == API


async def test_a_refresh_may_repeat_or_omit_the_resource_but_never_name_another(driver, registered):
    first = await driver.tokens(registered, resource=MCP)
    widened = await driver.refresh(registered, first["refresh_token"], resource=API)
    assert widened.status_code == 400
    assert widened.json() == {
        "error": "invalid_target",
        "error_description": "resource must be the one the authorization was granted for",
    }
    repeated = await driver.refresh(registered, first["refresh_token"], resource=MCP)
    assert repeated.status_code == 200, repeated.text
    omitted = await driver.refresh(registered, repeated.json()["refresh_token"])
    assert omitted.status_code == 200, omitted.text
    for issued in (repeated.json(), omitted.json()):
        assert (await driver.introspect(registered, issued["access_token"]))["aud"] == MCP


@pytest.mark.parametrize(
    ("path", "scope"), [("/api/v1/me", "profile:read"), ("/api/v1/galleries", "galleries:read")]
)
async def test_a_token_for_the_mcp_endpoint_is_refused_by_the_api(driver, registered, path, scope):
    tokens = await driver.tokens(registered, resource=MCP)
    response = await driver.http.get(
        path, headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The access token is not for this resource",
    }
    assert response.headers["www-authenticate"] == (
        'Bearer realm="piksend", error="invalid_token", '
        f'error_description="The access token is not for this resource", scope="{scope}", '
        f'resource_metadata="{API_METADATA}"'
    )


@pytest.mark.parametrize(
    ("resource", "name"),
    [(None, "the PikSend API"), (API, "the PikSend API"), (MCP, "PikSend for AI assistants (MCP)")],
)
async def test_the_consent_screen_names_the_resource_the_token_is_for(
    driver, registered, resource, name
):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge, resource=resource)
    assert page.status_code == 200
    line = re.search(r'<p class="resource">(.*?)</p>', page.text)
    assert line is not None
    assert line.group(1) == (
        "This lets <strong>Example App</strong> use your PikSend account through "
        f'<strong class="resource-name">{name}</strong>.'
    )


def challenge_params(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "Bearer"
    return dict(re.findall(r'(\w+)="([^"]*)"', rest))


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


async def test_a_token_for_the_api_is_refused_by_the_mcp_endpoint(driver, registered):
    tokens = await driver.tokens(registered, resource=API)
    response = await driver.http.post(
        "/mcp",
        json=INITIALIZE,
        headers={
            "authorization": f"Bearer {tokens['access_token']}",
            "accept": "application/json, text/event-stream",
        },
    )
    assert response.status_code == 401
    params = challenge_params(response.headers["www-authenticate"])
    assert {k: params[k] for k in ("error", "error_description", "resource_metadata")} == {
        "error": "invalid_token",
        "error_description": "The access token is not for this resource",
        "resource_metadata": ISSUER + "/.well-known/oauth-protected-resource/mcp",
    }
