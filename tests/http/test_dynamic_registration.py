"""Dynamic client registration (issue 13, item 4): RFC 7591 §3 and its §3.2.2 errors, RFC 7592
§2.1 and §2.3 with the registration access token, the operator policy, the consent warning, on
both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from piksend.storage import tables as t
from piksend.storage.maintenance import TrimPolicy, trim_unauthorized_clients
from tests.support.driver import RegisteredApp

ISSUER = "http://127.0.0.1:8000"
NATIVE = {
    "client_name": "Desktop Assistant",
    "redirect_uris": ["http://127.0.0.1:33418/callback"],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": "profile:read galleries:read",
}
WARNING = "Registered by the app itself; PikSend has not reviewed it."


async def _register(http, body, **kw):
    return await http.post("/api/oauth/register", json=body, **kw)


def _app(answer: dict) -> RegisteredApp:
    return RegisteredApp(
        client_id=answer["client_id"],
        client_secret=answer.get("client_secret"),
        redirect_uri=answer["redirect_uris"][0],
        scopes=answer["scope"],
    )


async def test_a_public_app_registers_itself_and_runs_the_whole_flow(http, driver, alice):
    response = await _register(http, NATIVE)

    assert (response.status_code, response.headers["cache-control"]) == (201, "no-store")
    answer = response.json()
    client_id, token = answer["client_id"], answer["registration_access_token"]
    assert answer == {
        "client_id": client_id,
        "client_id_issued_at": answer["client_id_issued_at"],
        "client_name": "Desktop Assistant",
        "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "profile:read galleries:read",
        "registration_client_uri": f"{ISSUER}/api/oauth/register/{client_id}",
        "registration_access_token": token,
    }
    app = _app(answer)
    consent = await driver.authorize(app, challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert WARNING in consent.text
    auth = await driver.authorize_and_approve(app)
    exchanged = await driver.exchange(app, auth, form=True)
    assert exchanged.status_code == 200, exchanged.text
    assert (await driver.me(exchanged.json()["access_token"])).status_code == 200


async def test_an_owners_app_gets_no_self_registered_warning(driver, registered):
    consent = await driver.authorize(
        registered, challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )

    assert consent.status_code == 200
    assert WARNING not in consent.text


async def test_a_confidential_app_is_refused_under_the_default_public_policy(http):
    body = {**NATIVE, "token_endpoint_auth_method": "client_secret_basic"}

    response = await _register(http, body)

    assert (response.status_code, response.json()) == (
        400,
        {
            "error": "invalid_client_metadata",
            "error_description": "This server registers only public clients: "
            "token_endpoint_auth_method must be none",
        },
    )


async def test_an_https_redirect_is_refused_under_the_default_public_policy(http):
    body = {**NATIVE, "redirect_uris": ["https://assistant.example/callback"]}

    response = await _register(http, body)

    assert (response.status_code, response.json()) == (
        400,
        {
            "error": "invalid_redirect_uri",
            "error_description": "This server registers only apps whose redirect URIs are "
            "loopback (http://127.0.0.1, http://[::1], http://localhost) or private-use "
            "schemes: https://assistant.example/callback",
        },
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {**NATIVE, "redirect_uris": []},
            {
                "error": "invalid_redirect_uri",
                "error_description": "redirect_uris must be a non-empty array of URIs",
            },
        ),
        (
            {**NATIVE, "redirect_uris": ["http://assistant.example/cb"]},
            {
                "error": "invalid_redirect_uri",
                "error_description": "Redirect URI must use https (http is allowed only for "
                "localhost, 127.0.0.1 and [::1]): http://assistant.example/cb",
            },
        ),
        (
            {**NATIVE, "scope": "profile:read everything"},
            {"error": "invalid_client_metadata", "error_description": "Unknown scope: everything"},
        ),
        (
            {**NATIVE, "grant_types": ["client_credentials"]},
            {
                "error": "invalid_client_metadata",
                "error_description": "Unsupported grant type: client_credentials",
            },
        ),
        (
            {**NATIVE, "token_endpoint_auth_method": "private_key_jwt"},
            {
                "error": "invalid_client_metadata",
                "error_description": "token_endpoint_auth_method must be none, "
                "client_secret_basic or client_secret_post",
            },
        ),
        (
            ["not", "an", "object"],
            {
                "error": "invalid_client_metadata",
                "error_description": "The request body must be a JSON object",
            },
        ),
    ],
)
async def test_registration_errors_name_the_field(http, body, error):
    response = await _register(http, body)

    assert (response.status_code, response.json()) == (400, error)


async def test_the_registration_access_token_reads_and_deletes_the_app(http):
    answer = (await _register(http, NATIVE)).json()
    uri = answer["registration_client_uri"].removeprefix(ISSUER)
    bearer = {"authorization": f"Bearer {answer['registration_access_token']}"}

    read = await http.get(uri, headers=bearer)
    assert (read.status_code, read.json()) == (200, answer)
    assert (await http.delete(uri, headers=bearer)).status_code == 204
    again = await http.get(uri, headers=bearer)
    assert (again.status_code, again.json()) == (
        401,
        {
            "error": "invalid_token",
            "error_description": "The registration access token is not valid",
        },
    )


async def test_another_token_cannot_read_or_delete_the_app(http):
    first = (await _register(http, NATIVE)).json()
    second = (await _register(http, NATIVE)).json()
    uri = first["registration_client_uri"].removeprefix(ISSUER)
    wrong = {"authorization": f"Bearer {second['registration_access_token']}"}

    assert (await http.get(uri, headers=wrong)).status_code == 401
    assert (await http.delete(uri, headers=wrong)).status_code == 401
    assert (await http.get(uri)).headers["www-authenticate"] == 'Bearer realm="piksend"'


async def test_metadata_advertises_the_registration_endpoint(http):
    metadata = (await http.get("/.well-known/oauth-authorization-server")).json()

    assert metadata["registration_endpoint"] == f"{ISSUER}/api/oauth/register"


@pytest.fixture
def settings(settings):
    return settings.with_(registrations_per_address=3)


async def test_registrations_are_limited_per_client_address(http):
    statuses = [(await _register(http, NATIVE)).status_code for _ in range(4)]

    assert statuses == [201, 201, 201, 429]


async def test_a_registered_app_no_one_authorized_is_trimmed_after_its_days(http, driver, alice):
    kept = _app((await _register(http, NATIVE)).json())
    await driver.authorize_and_approve(kept)
    abandoned = (await _register(http, NATIVE)).json()["client_id"]
    c = driver.ctx
    policy = TrimPolicy(unauthorized_client_ttl=timedelta(days=3))

    too_soon = await trim_unauthorized_clients(c.db, now=c.now() + timedelta(days=2), policy=policy)
    later = await trim_unauthorized_clients(c.db, now=c.now() + timedelta(days=4), policy=policy)

    assert (too_soon, later) == ({"clients": 0}, {"clients": 1})
    async with c.db.reader() as s:
        assert (await s.get(t.Client, abandoned), (await s.get(t.Client, kept.client_id)).id) == (
            None,
            kept.client_id,
        )
