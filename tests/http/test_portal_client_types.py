"""The developer portal and consent screen for the two client types (issue 12): choosing where
an app runs at registration, the type on the app page, making an app public (confirmed, secrets
deleted) or confidential (a secret shown once), and the consent screen's cue for public apps."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from piksend.oauth import tokens
from piksend.oauth.redirect_uris import PRIVATE_USE_FOR_PUBLIC_ONLY
from piksend.oauth.types import ClientType
from piksend.storage import tables as t
from tests.support.driver import RegisteredApp
from tests.support.pkce import pkce_pair
from tests.support.portal import Portal, app_form, client_id_of, nonce_of, secret_of

ALREADY_CONFIDENTIAL = (
    "This app was already made confidential with this form; its secret is not shown again."
)
PUBLIC_LABEL = (
    "Runs in a browser or on a device (single-page, mobile, desktop or command-line app: no secret)"
)
DEVICE_CUE = (
    "runs on your device</strong>, not on its developer's server. Apps like this have no secret "
    "to prove who made them, so approve only an app you got from a source you trust."
)


@pytest.fixture
def portal(http) -> Portal:
    return Portal(http)


def inline_error(page: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="e-{re.escape(field_id)}">([^<]*)</p>', page)
    return match.group(1) if match else None


async def client_row(app, client_id: str) -> t.Client:
    async with app.state.ctx.db.unit_of_work() as s:
        row = await s.get(t.Client, client_id)
        assert row is not None
        return row


async def create_public(portal: Portal, **fields) -> str:
    """Create a public app through the form; returns its client_id from the app page."""
    response = await portal.submit_new(client_type="public", **fields)
    assert response.status_code == 303, response.text[:500]
    page = await portal.http.get(response.headers["location"])
    return client_id_of(page.text)


async def test_the_new_app_form_offers_both_types_with_server_checked_and_what_each_allows(
    portal, alice
):
    page = (await portal.new_form()).text
    radios = re.findall(r'<input type="radio" id="t-(\w+)" name="client_type" value="(\w+)"', page)
    assert radios == [("confidential", "confidential"), ("public", "public")]
    assert re.search(r'id="t-confidential"[^>]* checked>', page)
    assert not re.search(r'id="t-public"[^>]* checked>', page)
    assert '<label for="t-confidential">Runs on a server (it can keep a secret)</label>' in page
    assert f'<label for="t-public">{PUBLIC_LABEL}</label>' in page
    assert "http://127.0.0.1:&lt;any port&gt;/… (RFC 8252 §7.3)" in page
    assert "like com.example.app:/callback (RFC 8252 §7.1)" in page


async def test_creating_a_public_app_shows_no_secret_and_stores_none(portal, alice, app, http):
    response = await portal.submit_new(
        client_type="public", redirect_uris=("com.example.photos:/cb",)
    )
    assert response.status_code == 303
    client_id = response.headers["location"].removeprefix("/settings/oauth/").split("?")[0]
    assert response.headers["location"] == f"/settings/oauth/{client_id}?created=1"
    page = await http.get(response.headers["location"])
    assert "It is public, so it has no client secret" in page.text
    assert "<strong>Public</strong> — runs in a browser or on a device" in page.text
    assert "pks_cs_" not in page.text
    assert 'id="secret"' not in page.text
    row = await client_row(app, client_id)
    assert (row.client_type, row.secret_digest, row.redirect_uris) == (
        "public",
        None,
        ["com.example.photos:/cb"],
    )


async def test_a_confidential_app_registering_a_private_use_redirect_is_refused_plainly(
    portal, alice, app
):
    response = await portal.submit_new(redirect_uris=("com.example.photos:/cb",))
    assert response.status_code == 400
    assert inline_error(response.text, "redirect_uri-0") == PRIVATE_USE_FOR_PUBLIC_ONLY
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.scalars(select(t.Client))).all() == []


async def test_an_unknown_client_type_is_refused_with_a_message_on_the_choice(portal, alice, app):
    response = await portal.submit_new(client_type="trusted")
    assert response.status_code == 400
    assert inline_error(response.text, "client_type") == "Choose where your app runs"
    assert '<li><a href="#client-type">Choose where your app runs</a></li>' in response.text
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.scalars(select(t.Client))).all() == []


async def test_the_public_forms_redirect_hint_names_loopback_and_private_use_kinds(portal, alice):
    client_id = await create_public(portal)
    page = (await portal.app_page(client_id)).text
    assert "a private-use scheme in reverse-domain form (com.example.app:/callback)" in page
    assert "on 127.0.0.1 and [::1] any port matches" in page


async def test_editing_a_public_app_keeps_it_public_and_accepts_its_private_use_redirect(
    portal, alice, app
):
    client_id = await create_public(portal)
    page = await portal.app_page(client_id)
    data = app_form(
        redirect_uris=("com.example.photos:/oauth2redirect",), client_type="confidential"
    )
    response = await portal.post(f"/settings/oauth/{client_id}", data, page.text)
    assert response.status_code == 303
    row = await client_row(app, client_id)
    assert (row.client_type, row.redirect_uris) == (
        "public",
        ["com.example.photos:/oauth2redirect"],
    )


async def test_the_app_page_shows_a_confidential_apps_type_and_a_link_to_make_it_public(
    portal, alice
):
    client_id, _ = await portal.create()
    page = (await portal.app_page(client_id)).text
    assert "<strong>Confidential</strong> — runs on a server" in page
    assert f'href="/settings/oauth/{client_id}/make-public">Make this app public…</a>' in page
    assert "make-confidential" not in page


async def test_making_an_app_public_asks_first_then_deletes_both_secrets(
    portal, alice, app, driver, http
):
    client_id, secret = await portal.create()
    await portal.rotate(client_id, grace_seconds=3600)
    confirm = await http.get(f"/settings/oauth/{client_id}/make-public")
    assert confirm.status_code == 200
    assert "Make My App public?" in confirm.text
    assert (await client_row(app, client_id)).secret_digest is not None

    data = [("nonce", nonce_of(confirm.text)), ("confirm", "public")]
    done = await portal.post(f"/settings/oauth/{client_id}/make-public", data, confirm.text)

    assert done.status_code == 303
    assert done.headers["location"] == f"/settings/oauth/{client_id}?made_public=1"
    page = await http.get(done.headers["location"])
    assert "This app is now public: its client secrets were deleted." in page.text
    row = await client_row(app, client_id)
    assert (row.client_type, row.secret_digest, row.previous_secret_digest) == (
        "public",
        None,
        None,
    )
    registered = RegisteredApp(client_id, None, "https://app.example.com/callback", "profile:read")
    assert (await driver.tokens(registered))["scope"] == "profile:read"
    with_old_secret = RegisteredApp(client_id, secret, registered.redirect_uri, "profile:read")
    auth = await driver.authorize_and_approve(with_old_secret)
    assert (await driver.exchange(with_old_secret, auth)).status_code == 401


async def test_making_an_app_public_needs_the_confirmation_and_a_fresh_nonce(
    portal, alice, app, http
):
    client_id, _ = await portal.create()
    confirm = await http.get(f"/settings/oauth/{client_id}/make-public")
    unconfirmed = [("nonce", nonce_of(confirm.text))]
    response = await portal.post(
        f"/settings/oauth/{client_id}/make-public", unconfirmed, confirm.text
    )
    assert response.status_code == 422
    forged = [("nonce", "pks_fn_forged"), ("confirm", "public")]
    response = await portal.post(f"/settings/oauth/{client_id}/make-public", forged, confirm.text)
    assert response.status_code == 400
    assert "This form has expired. Open the app page again and retry." in response.text
    assert (await client_row(app, client_id)).client_type == "confidential"


async def test_making_an_app_public_without_the_csrf_token_is_refused(portal, alice, app, http):
    client_id, _ = await portal.create()
    confirm = await http.get(f"/settings/oauth/{client_id}/make-public")
    response = await http.post(
        f"/settings/oauth/{client_id}/make-public",
        data={"nonce": nonce_of(confirm.text), "confirm": "public"},
    )
    assert response.status_code == 403
    assert (await client_row(app, client_id)).client_type == "confidential"


async def test_making_an_app_confidential_shows_its_new_secret_once(portal, alice, app, driver):
    client_id = await create_public(portal)
    page = await portal.app_page(client_id)
    assert "<strong>Public</strong> — runs in a browser or on a device" in page.text
    data = [("nonce", nonce_of(page.text))]

    posted = await portal.post(f"/settings/oauth/{client_id}/make-confidential", data, page.text)
    response = await portal.follow(posted)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "App made confidential: My App" in response.text
    secret = secret_of(response.text)
    row = await client_row(app, client_id)
    assert (row.client_type, row.secret_digest) == ("confidential", tokens.digest(secret))
    registered = RegisteredApp(
        client_id, secret, "https://app.example.com/callback", "profile:read"
    )
    assert (await driver.tokens(registered))["scope"] == "profile:read"
    again = await portal.post(f"/settings/oauth/{client_id}/make-confidential", data, page.text)
    assert again.status_code == 409
    assert ALREADY_CONFIDENTIAL in again.text
    assert "pks_cs_" not in again.text
    assert (await client_row(app, client_id)).secret_digest == tokens.digest(secret)


async def test_making_an_app_confidential_without_the_csrf_token_is_refused(
    portal, alice, app, http
):
    client_id = await create_public(portal)
    page = await portal.app_page(client_id)
    response = await http.post(
        f"/settings/oauth/{client_id}/make-confidential", data={"nonce": nonce_of(page.text)}
    )
    assert response.status_code == 403
    assert (await client_row(app, client_id)).secret_digest is None


async def test_an_app_with_a_private_use_redirect_is_not_made_confidential(portal, alice, app):
    client_id = await create_public(portal, redirect_uris=("com.example.photos:/cb",))
    page = await portal.app_page(client_id)
    data = [("nonce", nonce_of(page.text))]
    response = await portal.post(f"/settings/oauth/{client_id}/make-confidential", data, page.text)
    assert response.status_code == 400
    assert (
        '<p class="error" role="alert">Only an app that runs in a browser or on a device may use '
        "a private-use scheme redirect URI (RFC 8252 §7.1), and this app registers:</p>"
    ) in response.text
    assert '<ul class="private-use"><li><code>com.example.photos:/cb</code></li></ul>' in (
        response.text
    )
    assert "pks_cs_" not in response.text
    row = await client_row(app, client_id)
    assert (row.client_type, row.secret_digest) == ("public", None)


@pytest.mark.parametrize(
    ("redirect_uri", "requested", "cue", "destination"),
    [
        (
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53682/callback",
            "on your device",
            "127.0.0.1:53682",
        ),
        (
            "com.example.photos:/cb",
            "com.example.photos:/cb",
            "on your device",
            "com.example.photos",
        ),
        (
            "https://photos.example.com/spa",
            "https://photos.example.com/spa",
            "in your browser",
            "photos.example.com",
        ),
    ],
)
async def test_the_consent_screen_says_where_a_public_app_runs(
    driver, alice, redirect_uri, requested, cue, destination
):
    public = await driver.register_app(
        alice.id, redirect_uris=(redirect_uri,), client_type=ClientType.PUBLIC, name="Pocket"
    )
    _, challenge = pkce_pair()
    page = await driver.authorize(public, challenge=challenge, redirect_uri=requested)
    assert page.status_code == 200
    assert f'<p class="runs-on-device" role="note"><strong>Pocket runs {cue}</strong>' in page.text
    assert DEVICE_CUE.replace("on your device", cue) in page.text
    assert f'<strong class="redirect-host">{destination}</strong>' in page.text
    assert 'Signed in as <strong class="account-email">alice@example.com</strong>' in page.text


async def test_the_consent_screen_of_a_confidential_app_has_no_device_cue(
    driver, alice, registered
):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert page.status_code == 200
    assert 'class="runs-on-device"' not in page.text
    assert '<strong class="redirect-host">app.example.com</strong>' in page.text
