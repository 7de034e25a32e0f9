"""The developer portal through HTTP: every validation message, the secret's one-time display,
editing, rotation (at once or after a grace period), deletion and the test flow."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from piksend.clients.logos import logo_path
from piksend.oauth import tokens
from piksend.storage import tables as t
from tests.support.driver import RegisteredApp
from tests.support.portal import Portal, app_form, nonce_of, secret_of

ALREADY_CREATED = "This application was already created; the client secret is not shown again."
ALREADY_ROTATED = (
    "This secret was already rotated with this form; the new secret is not shown again."
)
HTTPS_ONLY = "Redirect URI must use https (http is allowed only for localhost, 127.0.0.1 and [::1])"


@pytest.fixture
def portal(http) -> Portal:
    return Portal(http)


@pytest.fixture
async def signed_in(alice):
    return alice


def inline_error(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="e-{re.escape(field_id)}">([^<]*)</p>', html)
    return match.group(1) if match else None


async def count_apps(app) -> int:
    async with app.state.ctx.db.unit_of_work() as s:
        return len((await s.scalars(select(t.Client))).all())


async def test_settings_pages_send_signed_out_visitors_to_sign_in(http):
    for path in ("/settings/oauth", "/settings/oauth/new", "/settings/connected-apps"):
        response = await http.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?" + urlencode({"next": path})


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"name": ""}, "name", "Application name is required"),
        ({"name": "   "}, "name", "Application name is required"),
        ({"name": "x" * 101}, "name", "Application name must be at most 100 characters"),
        ({"description": "d" * 1001}, "description", "Description must be at most 1000 characters"),
        (
            {"logo_url": "http://cdn.example.com/logo.png"},
            "logo_url",
            "Logo URL must be an https URL",
        ),
        ({"logo_url": "logo.png"}, "logo_url", "Logo URL must be an https URL"),
        ({"website_url": "ftp://example.com"}, "website_url", "Website URL must be an https URL"),
        ({"website_url": "javascript:alert(1)"}, "website_url", "Website URL must be an https URL"),
        (
            {"redirect_uris": ("/callback",)},
            "redirect_uri-0",
            "Redirect URI must be an absolute URL",
        ),
        ({"redirect_uris": ("http://app.example.com/cb",)}, "redirect_uri-0", HTTPS_ONLY),
        ({"redirect_uris": ("myapp://callback",)}, "redirect_uri-0", HTTPS_ONLY),
        (
            {"redirect_uris": ("https://app.example.com/cb#done",)},
            "redirect_uri-0",
            "Redirect URI must not contain a fragment",
        ),
        (
            {"redirect_uris": ("https://*.example.com/cb",)},
            "redirect_uri-0",
            "Redirect URI must not contain wildcards",
        ),
        (
            {"redirect_uris": ("https://app.example.com/cb", "https://app.example.com/cb")},
            "redirect_uri-1",
            "This redirect URI is already listed",
        ),
        ({"redirect_uris": ("",)}, "redirect_uris", "At least one redirect URI is required"),
        ({"scopes": ()}, "scopes", "Choose at least one scope"),
    ],
)
async def test_new_app_form_shows_each_validation_message_inline_and_creates_nothing(
    portal, signed_in, app, fields, field_id, message
):
    response = await portal.submit_new(**fields)
    assert response.status_code == 400
    assert inline_error(response.text, field_id) == message
    assert 'class="error-summary"' in response.text
    assert "pks_cs_" not in response.text
    assert await count_apps(app) == 0


async def test_invalid_second_redirect_uri_is_flagged_on_its_own_row(portal, signed_in):
    response = await portal.submit_new(
        redirect_uris=("https://app.example.com/cb", "http://evil.example.com/cb")
    )
    assert inline_error(response.text, "redirect_uri-0") is None
    assert inline_error(response.text, "redirect_uri-1") == HTTPS_ONLY
    assert 'value="http://evil.example.com/cb"' in response.text


@pytest.mark.parametrize(
    "uri",
    ["http://localhost:5000/callback", "http://127.0.0.1/cb", "http://[::1]:8080/cb"],
)
async def test_http_redirect_uris_on_loopback_hosts_are_accepted(portal, signed_in, uri):
    response = await portal.submit_new(redirect_uris=(uri,))
    assert response.status_code == 303


async def test_add_and_remove_redirect_uri_rows_work_without_javascript(portal, signed_in):
    form = await portal.new_form()
    data = [("nonce", nonce_of(form.text)), *app_form(), ("action", "add_uri")]
    added = await portal.post("/settings/oauth/new", data, form.text)
    assert added.status_code == 200
    assert 'id="f-redirect_uri-1"' in added.text
    assert 'value="https://app.example.com/callback"' in added.text
    data = [
        ("nonce", nonce_of(added.text)),
        *app_form(redirect_uris=("https://a.example.com/cb", "https://b.example.com/cb")),
        ("remove_uri", "0"),
    ]
    removed = await portal.post("/settings/oauth/new", data, added.text)
    assert removed.status_code == 200
    assert 'value="https://a.example.com/cb"' not in removed.text
    assert (
        'id="f-redirect_uri-0" name="redirect_uri" type="url" value="https://b.example.com/cb"'
        in removed.text
    )


async def test_created_app_page_shows_client_id_and_secret_once_with_the_warning(
    portal, signed_in, app, http
):
    posted = await portal.submit_new(
        name="Photo Sync",
        redirect_uris=("https://app.example.com/cb", "http://localhost:5000/callback"),
    )
    assert posted.status_code == 303
    assert re.fullmatch(r"/settings/oauth/pks_ci_[\w-]+/secret", posted.headers["location"])
    response = await portal.follow(posted)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    secret = secret_of(response.text)
    assert secret not in posted.headers["location"]
    assert secret not in "".join(posted.headers.get_list("set-cookie"))
    assert secret.startswith("pks_cs_")
    assert "You won't be able to see it again" in response.text
    assert 'data-copy="client-secret"' in response.text
    assert 'data-copy="client-id"' in response.text
    async with app.state.ctx.db.unit_of_work() as s:
        row = (await s.scalars(select(t.Client))).one()
        nonces = (await s.scalars(select(t.FormNonce))).all()
    assert row.secret_digest == tokens.digest(secret)
    assert secret not in repr(row.__dict__)
    assert all(secret not in repr(n.__dict__) for n in nonces)
    assert secret not in "".join(response.headers.get_list("set-cookie"))
    again = await http.get(f"/settings/oauth/{row.id}")
    assert again.status_code == 200
    assert "pks_cs_" not in again.text
    listing = await http.get("/settings/oauth")
    assert "Photo Sync" in listing.text
    assert "pks_cs_" not in listing.text


async def test_reposting_the_create_form_neither_creates_a_second_app_nor_shows_the_secret(
    portal, signed_in, app
):
    form = await portal.new_form()
    data = [("nonce", nonce_of(form.text)), *app_form()]
    first = await portal.post("/settings/oauth/new", data, form.text)
    assert first.status_code == 303
    client_id = first.headers["location"].split("/")[3]
    second = await portal.post("/settings/oauth/new", data, form.text)
    assert second.status_code == 409
    assert ALREADY_CREATED in second.text
    assert "pks_cs_" not in second.text
    assert f'href="/settings/oauth/{client_id}"' in second.text
    assert await count_apps(app) == 1


async def test_create_form_with_an_unknown_nonce_asks_to_submit_again(portal, signed_in, app):
    form = await portal.new_form()
    data = [("nonce", "pks_fn_forged"), *app_form()]
    response = await portal.post("/settings/oauth/new", data, form.text)
    assert response.status_code == 400
    assert "This form has expired. Check the fields and submit again." in response.text
    assert nonce_of(response.text) != "pks_fn_forged"
    assert await count_apps(app) == 0


async def test_create_form_without_csrf_token_is_refused(http, signed_in, app):
    form = await http.get("/settings/oauth/new")
    response = await http.post(
        "/settings/oauth/new", data={"nonce": nonce_of(form.text), "name": "X"}
    )
    assert response.status_code == 403
    assert await count_apps(app) == 0


async def test_secret_shown_at_creation_authenticates_at_the_token_endpoint(
    portal, signed_in, driver
):
    client_id, secret = await portal.create(scopes=("profile:read",))
    registered = RegisteredApp(
        client_id, secret, "https://app.example.com/callback", "profile:read"
    )
    tokens_ = await driver.tokens(registered)
    assert tokens_["scope"] == "profile:read"


async def test_editing_changes_every_field(portal, signed_in, http, app):
    client_id, _ = await portal.create()
    page = await portal.app_page(client_id)
    data = app_form(
        name="Renamed",
        description="Now with <b>bold</b> claims",
        logo_url="https://cdn.example.com/logo.png",
        website_url="https://example.com",
        redirect_uris=("https://new.example.com/cb", "http://127.0.0.1:9000/cb"),
        scopes=("images:read", "stats:read"),
    )
    response = await portal.post(f"/settings/oauth/{client_id}", data, page.text)
    assert response.status_code == 303
    assert response.headers["location"] == f"/settings/oauth/{client_id}?saved=1"
    async with app.state.ctx.db.unit_of_work() as s:
        row = await s.get(t.Client, client_id)
    assert (row.name, row.description, row.logo_url, row.website_url) == (
        "Renamed",
        "Now with <b>bold</b> claims",
        "https://cdn.example.com/logo.png",
        "https://example.com",
    )
    assert row.redirect_uris == ["https://new.example.com/cb", "http://127.0.0.1:9000/cb"]
    assert row.scopes == "images:read stats:read"
    shown = await http.get(f"/settings/oauth/{client_id}?saved=1")
    assert "Your changes were saved." in shown.text
    assert "Now with &lt;b&gt;bold&lt;/b&gt; claims" in shown.text


async def test_editing_with_an_invalid_value_shows_the_message_and_keeps_the_app(
    portal, signed_in, app
):
    client_id, _ = await portal.create(name="Keep me")
    page = await portal.app_page(client_id)
    data = app_form(name="Keep me", website_url="http://example.com")
    response = await portal.post(f"/settings/oauth/{client_id}", data, page.text)
    assert response.status_code == 400
    assert inline_error(response.text, "website_url") == "Website URL must be an https URL"
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.get(t.Client, client_id)).website_url is None


async def test_another_users_app_is_not_found(portal, signed_in, driver, http):
    client_id, _ = await portal.create()
    await driver.sign_out()
    await driver.sign_up("bob@example.com", "correct horse", "Bob")
    for path in (f"/settings/oauth/{client_id}", f"/settings/oauth/{client_id}/delete"):
        response = await http.get(path)
        assert response.status_code == 404


async def test_rotating_at_once_stops_the_old_secret_and_shows_the_new_one_once(
    portal, signed_in, driver
):
    client_id, old = await portal.create(scopes=("profile:read",))
    response = await portal.rotate(client_id, grace_seconds=0)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    new = secret_of(response.text)
    assert new != old
    assert "The previous secret stopped working now." in response.text
    uri = "https://app.example.com/callback"
    with_old = RegisteredApp(client_id, old, uri, "profile:read")
    refused = await driver.exchange(with_old, await driver.authorize_and_approve(with_old))
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client_id or client_secret",
    }
    with_new = RegisteredApp(client_id, new, uri, "profile:read")
    assert (await driver.tokens(with_new))["scope"] == "profile:read"
    page = await portal.app_page(client_id)
    assert "pks_cs_" not in page.text


async def test_reposting_the_rotate_form_does_not_rotate_again_or_show_a_secret(
    portal, signed_in, app
):
    client_id, _ = await portal.create()
    page = await portal.app_page(client_id)
    data = [("nonce", nonce_of(page.text)), ("grace_seconds", "0"), ("confirm", "immediate")]
    first = await portal.post(f"/settings/oauth/{client_id}/rotate", data, page.text)
    assert first.status_code == 303
    async with app.state.ctx.db.unit_of_work() as s:
        digest = (await s.get(t.Client, client_id)).secret_digest
    second = await portal.post(f"/settings/oauth/{client_id}/rotate", data, page.text)
    assert second.status_code == 409
    assert ALREADY_ROTATED in second.text
    assert "pks_cs_" not in second.text
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.get(t.Client, client_id)).secret_digest == digest


async def test_rotating_with_a_grace_period_keeps_the_old_secret_until_it_ends(
    portal, signed_in, driver, clock
):
    client_id, old = await portal.create(scopes=("profile:read",))
    response = await portal.rotate(client_id, grace_seconds=3600)
    assert "The previous secret keeps working until" in response.text
    with_old = RegisteredApp(client_id, old, "https://app.example.com/callback", "profile:read")
    assert (
        await driver.exchange(with_old, await driver.authorize_and_approve(with_old))
    ).status_code == 200
    page = await portal.app_page(client_id)
    assert "Previous secret</strong> ending in <code>…" + old[-4:] in page.text
    clock.advance(3600)
    refused = await driver.exchange(with_old, await driver.authorize_and_approve(with_old))
    assert refused.status_code == 401


async def test_rotate_refuses_a_grace_period_that_was_not_offered(portal, signed_in):
    client_id, _ = await portal.create()
    response = await portal.rotate(client_id, grace_seconds=99)
    assert response.status_code == 422
    assert "Choose when the old secret stops working" in response.text


async def test_deleting_after_confirmation_revokes_every_token_of_the_app(
    portal, signed_in, driver, http
):
    client_id, secret = await portal.create(scopes=("profile:read",))
    registered = RegisteredApp(
        client_id, secret, "https://app.example.com/callback", "profile:read"
    )
    issued = await driver.tokens(registered)
    confirm = await http.get(f"/settings/oauth/{client_id}/delete")
    assert confirm.status_code == 200
    assert "(2 active now)" in confirm.text  # one access and one refresh token
    unconfirmed = await portal.post(f"/settings/oauth/{client_id}/delete", [], confirm.text)
    assert unconfirmed.status_code == 422
    assert (await driver.me(issued["access_token"])).status_code == 200
    response = await portal.post(
        f"/settings/oauth/{client_id}/delete", [("confirm", "delete")], confirm.text
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/oauth?deleted=1"
    assert (await driver.me(issued["access_token"])).status_code == 401
    refreshed = await driver.refresh(registered, issued["refresh_token"])
    assert refreshed.status_code == 401
    assert (await http.get(f"/settings/oauth/{client_id}")).status_code == 404


async def test_integration_test_runs_a_real_pkce_authorization_and_exchange(
    portal, signed_in, driver, http, app
):
    client_id, secret = await portal.create(scopes=("profile:read", "galleries:read"))
    test_page = await http.get(f"/settings/oauth/{client_id}/test")
    callback = "http://127.0.0.1:8000/settings/oauth/test-callback"
    assert "Register the test callback" in test_page.text
    registered = await portal.post(f"/settings/oauth/{client_id}/test/callback", [], test_page.text)
    assert registered.status_code == 303
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.get(t.Client, client_id)).redirect_uris == [
            "https://app.example.com/callback",
            callback,
        ]
    test_page = await http.get(f"/settings/oauth/{client_id}/test")
    started = await portal.post(
        f"/settings/oauth/{client_id}/test", [("scope", "profile:read")], test_page.text
    )
    assert started.status_code == 303
    location = urlsplit(started.headers["location"])
    assert location.path == "/api/oauth/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == [client_id]
    assert query["redirect_uri"] == [callback]
    assert query["scope"] == ["profile:read"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) == 43
    consent = await http.get(started.headers["location"])
    decided = await driver.decide(consent, "approve")
    back = urlsplit(decided.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == callback
    callback_page = await http.get(decided.headers["location"])
    assert callback_page.status_code == 200
    assert "Issuer <code>iss</code> matches" in callback_page.text
    code = parse_qs(back.query)["code"][0]
    state = parse_qs(back.query)["state"][0]
    wrong = await portal.post(
        "/settings/oauth/test-callback",
        [("state", state), ("code", code), ("client_secret", "pks_cs_wrong")],
        callback_page.text,
    )
    assert wrong.status_code == 200
    assert '"error": "invalid_client"' in html.unescape(wrong.text)
    assert 'name="client_secret"' in wrong.text
    done = await portal.post(
        "/settings/oauth/test-callback",
        [("state", state), ("code", code), ("client_secret", secret)],
        wrong.text,
    )
    assert done.status_code == 200
    assert done.headers["cache-control"] == "no-store"
    assert 'id="token-status">HTTP 200<' in done.text
    shown = html.unescape(done.text)
    assert '"scope": "profile:read"' in shown
    assert secret not in shown
    access = re.search(r'"access_token": "([^"]+)"', shown).group(1)
    assert (await driver.me(access)).status_code == 200
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.scalars(select(t.IntegrationTest))).all() == []
    replay = await portal.post(
        "/settings/oauth/test-callback",
        [("state", state), ("code", code), ("client_secret", secret)],
        done.text,
    )
    assert replay.status_code == 400
    assert "This test is unknown, finished or has expired." in replay.text


async def test_integration_test_needs_the_callback_registered_first(portal, signed_in, http):
    client_id, _ = await portal.create()
    page = await http.get(f"/settings/oauth/{client_id}/test")
    response = await portal.post(
        f"/settings/oauth/{client_id}/test", [("scope", "profile:read")], page.text
    )
    assert response.status_code == 400
    assert "Register the test callback on this app first" in response.text


async def test_test_callback_with_an_unknown_state_is_refused(http, signed_in):
    response = await http.get("/settings/oauth/test-callback?code=pks_ac_x&state=nope")
    assert response.status_code == 400
    assert "This test is unknown or has expired" in response.text


async def test_connected_apps_lists_granted_scopes_and_revoke_stops_the_tokens(
    driver, registered, http
):
    issued = await driver.tokens(registered, scopes=["profile:read", "galleries:read"])
    page = await http.get("/settings/connected-apps")
    assert page.status_code == 200
    assert '<h2 class="app-name">Example App</h2>' in page.text
    granted = re.findall(r"<li>[^<]+<code>([^<]+)</code></li>", page.text)
    assert granted == ["profile:read", "galleries:read"]
    assert "Authorized" in page.text
    revoke = await Portal(http).revoke(registered.client_id)
    assert revoke.status_code == 303
    assert revoke.headers["location"] == "/settings/connected-apps?revoked=1"
    assert (await driver.me(issued["access_token"])).status_code == 401
    assert (await driver.refresh(registered, issued["refresh_token"])).json()["error"] == (
        "invalid_grant"
    )
    after = await http.get("/settings/connected-apps?revoked=1")
    assert "Example App" not in after.text
    assert "No apps are connected to your account." in after.text


async def test_connected_apps_show_logos_only_from_https(driver, alice, http, app):
    registered = await driver.register_app(
        alice.id, logo_url="https://cdn.example.com/logo.png", name="Logo App"
    )
    await driver.tokens(registered)
    async with app.state.ctx.db.unit_of_work() as s:
        other = await driver.register_app(alice.id, name="Sneaky App")
        row = await s.get(t.Client, other.client_id)
        row.logo_url = "http://cdn.example.com/tracker.png"
    await driver.tokens(other)
    page = await http.get("/settings/connected-apps")
    # issue 15: both are served by piksend (the http one as a letter avatar), neither hot-linked
    for one, name, url in (
        (registered, "Logo App", "https://cdn.example.com/logo.png"),
        (other, "Sneaky App", "http://cdn.example.com/tracker.png"),
    ):
        assert f'<img class="app-logo" src="{logo_path(one.client_id, name, url)}"' in page.text
    assert "cdn.example.com" not in page.text
