"""Issue 17, items 2 and 4, through HTTP on both databases: destructive actions ask first, a
new secret is shown once through POST-redirect-GET, and the app page lists each live secret
with its facts; a secret's last use costs a token request no write of its own."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from piksend.storage import tables as t
from tests.support.driver import RegisteredApp
from tests.support.portal import Portal, nonce_of, secret_of

NOT_AGAIN = "This secret is not shown again"


@pytest.fixture
def portal(http) -> Portal:
    return Portal(http)


async def test_a_reload_of_the_secret_page_shows_it_no_more_and_the_url_never_holds_it(
    portal, alice, http
):
    posted = await portal.submit_new()
    location = posted.headers["location"]
    shown = await portal.follow(posted)
    secret = secret_of(shown.text)

    reloaded = await http.get(location)

    assert secret not in location
    assert reloaded.status_code == 410
    assert NOT_AGAIN in reloaded.text
    assert "pks_cs_" not in reloaded.text


async def test_another_browser_of_the_same_user_cannot_read_the_fresh_secret(
    portal, alice, http, app
):
    posted = await portal.submit_new()
    http.cookies.delete("piksend_reveal")  # the reveal key lives only in the posting browser

    response = await http.get(posted.headers["location"])

    assert response.status_code == 410
    assert "pks_cs_" not in response.text
    async with app.state.ctx.db.unit_of_work() as s:
        kept = (await s.scalars(select(t.SecretReveal))).all()
    assert len(kept) == 1 and b"pks_cs_" not in kept[0].sealed


async def test_an_immediate_rotation_without_confirmation_asks_first_and_changes_nothing(
    portal, alice, app
):
    client_id, _ = await portal.create()
    async with app.state.ctx.db.unit_of_work() as s:
        before = (await s.get(t.Client, client_id)).secret_digest

    asked = await portal.rotate_post(client_id, 0)

    assert (asked.status_code, asked.headers["location"]) == (
        303,
        f"/settings/oauth/{client_id}/rotate",
    )
    page = await portal.follow(asked)
    assert "Stop the old secret of My App now?" in page.text
    assert 'name="confirm" value="immediate"' in page.text
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.get(t.Client, client_id)).secret_digest == before
    data = [("nonce", nonce_of(page.text)), ("grace_seconds", "0"), ("confirm", "immediate")]
    done = await portal.post(f"/settings/oauth/{client_id}/rotate", data, page.text)
    assert "The previous secret stopped working now." in (await portal.follow(done)).text


async def test_the_rotate_form_defaults_to_a_grace_period(portal, alice):
    client_id, _ = await portal.create()
    page = await portal.app_page(client_id)
    checked = re.findall(r'name="grace_seconds" value="(\d+)" checked', page.text)
    assert checked == ["86400"]


async def test_revoking_without_confirmation_shows_the_question_and_keeps_the_access(
    driver, registered, http
):
    issued = await driver.tokens(registered)
    page = await http.get("/settings/connected-apps")
    asked = await Portal(http).post(
        f"/settings/connected-apps/{registered.client_id}/revoke", [], page.text
    )
    assert (asked.status_code, asked.headers["location"]) == (
        303,
        f"/settings/connected-apps/{registered.client_id}/revoke",
    )
    question = await http.get(asked.headers["location"])
    assert "Revoke access for Example App?" in question.text
    assert (await driver.me(issued["access_token"])).status_code == 200


async def test_the_app_page_lists_each_live_secret_with_its_facts(portal, alice, driver, clock):
    client_id, old = await portal.create(scopes=("profile:read",))
    await driver.tokens(
        RegisteredApp(client_id, old, "https://app.example.com/callback", "profile:read")
    )
    clock.advance(60)
    new = secret_of((await portal.rotate(client_id, grace_seconds=3600)).text)

    page = (await portal.app_page(client_id)).text

    facts = re.findall(r'<li class="secret-facts">(.*?)</li>', page, re.S)
    assert len(facts) == 2
    assert "Current secret</strong> ending in <code>…" + new[-4:] in facts[0]
    assert "Not since PikSend records it" in facts[0]
    assert "Previous secret</strong> ending in <code>…" + old[-4:] in facts[1]
    assert "(to within an hour)" in facts[1] and "Stops working" in facts[1]
    assert old not in page and new not in page
    clock.advance(3600)
    after = (await portal.app_page(client_id)).text
    assert len(re.findall(r'<li class="secret-facts">', after)) == 1


async def test_a_secrets_last_use_is_written_once_an_hour_and_never_in_the_token_request(
    portal, alice, driver, app, clock
):
    client_id, secret = await portal.create(scopes=("profile:read",))
    registered = RegisteredApp(
        client_id, secret, "https://app.example.com/callback", "profile:read"
    )
    writes: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE CLIENTS"):
            writes.append(statement)

    engine = app.state.ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        issued = await driver.tokens(registered)
        for _ in range(3):
            refreshed = await driver.refresh(registered, issued["refresh_token"])
            assert refreshed.status_code == 200, refreshed.text
            issued = refreshed.json()
        first_hour = len(writes)
        async with app.state.ctx.db.unit_of_work() as s:
            used = (await s.get(t.Client, client_id)).secret_used_at
        clock.advance(3600)
        await driver.tokens(registered)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert first_hour == 1
    assert used is not None
    assert len(writes) == 2
