"""Verified addresses (issue 14, item 3), through the app and a real SMTP server (aiosmtpd):
sign-up mails a single-use, expiring link; apps read ``email_verified`` in /api/v1/me and in
introspection; sign-up never says which addresses have accounts; a new address applies only
once verified."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from piksend.storage import tables as t
from tests.support.accounts import count, deliver, path_of, post_form, token_of
from tests.support.driver import csrf_of
from tests.support.smtp import body_of, link_in, smtp_server

CSRF_FIELD = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture
def inbox():
    with smtp_server() as server:
        yield server


@pytest.fixture
def settings(settings, inbox):
    return settings.with_(smtp_url=inbox.url, mail_from="PikSend <no-reply@piksend.test>")


async def sign_up(http, email: str, name: str = "Alice", password: str = "correct horse"):
    page = await http.get("/signup")
    return await http.post(
        "/signup",
        data={"csrf_token": csrf_of(page.text), "name": name, "email": email, "password": password},
    )


async def verify(http, link: str):
    return await post_form(http, path_of(link), {"token": token_of(link)})


async def test_sign_up_mails_a_verification_link_to_the_address_through_smtp(http, app, inbox):
    response = await sign_up(http, "Alice@Example.com")
    assert response.status_code == 200
    assert await deliver(app) == 1
    (message,) = inbox.wait_for(1)
    assert (message["From"], message["To"], message["Subject"]) == (
        "PikSend <no-reply@piksend.test>",
        "alice@example.com",
        "Confirm your e-mail address",
    )
    link = link_in(message)
    assert path_of(link) == "/verify"
    assert token_of(link).startswith("pks_ev_")
    assert "The link works once, for 24 hours." in body_of(message)


async def test_the_link_is_stored_only_as_its_sha256_digest(http, app, inbox):
    import hashlib

    await sign_up(http, "alice@example.com")
    await deliver(app)
    token = token_of(link_in(inbox.wait_for(1)[0]))
    async with app.state.ctx.db.reader() as s:
        rows = (await s.execute(select(t.AccountToken.digest, t.AccountToken.purpose))).all()
    assert [tuple(r) for r in rows] == [
        (hashlib.sha256(token.encode()).hexdigest(), "verify_email")
    ]


async def test_opening_the_link_shows_a_button_and_changes_nothing_until_it_is_pressed(
    http, app, inbox
):
    await sign_up(http, "alice@example.com")
    await deliver(app)
    link = link_in(inbox.wait_for(1)[0])
    page = await http.get(link)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'action="/verify"' in page.text
    async with app.state.ctx.db.reader() as s:
        assert await s.scalar(select(t.User.email_verified_at)) is None
    assert (await verify(http, link)).status_code == 200
    async with app.state.ctx.db.reader() as s:
        assert await s.scalar(select(t.User.email_verified_at)) == app.state.ctx.now()


async def test_a_verification_link_works_once(http, app, inbox):
    await sign_up(http, "alice@example.com")
    await deliver(app)
    link = link_in(inbox.wait_for(1)[0])
    first = await verify(http, link)
    second = await verify(http, link)
    assert (first.status_code, second.status_code) == (200, 400)
    assert "Your address is verified" in first.text
    assert "This link no longer works" in second.text
    assert (await http.get(link)).status_code == 400


async def test_an_expired_verification_link_verifies_nothing(http, app, inbox, clock):
    await sign_up(http, "alice@example.com")
    await deliver(app)
    link = link_in(inbox.wait_for(1)[0])
    clock.advance(24 * 3600)
    assert (await verify(http, link)).status_code == 400
    async with app.state.ctx.db.reader() as s:
        assert await s.scalar(select(t.User.email_verified_at)) is None


async def test_email_verified_is_false_in_the_api_and_introspection_until_verified(
    driver, http, app, inbox
):
    alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
    registered = await driver.register_app(alice.id)
    tokens = await driver.tokens(registered)
    me = await driver.me(tokens["access_token"])
    introspection = await driver.introspect(registered, tokens["access_token"])
    assert me.json() == {
        "id": alice.id,
        "name": "Alice",
        "email": "alice@example.com",
        "email_verified": False,
        "avatar_url": None,
    }
    assert (introspection["username"], introspection["email_verified"]) == (
        "alice@example.com",
        False,
    )

    await deliver(app)
    assert (await verify(http, link_in(inbox.wait_for(1)[0]))).status_code == 200

    me = await driver.me(tokens["access_token"])
    introspection = await driver.introspect(registered, tokens["access_token"])
    assert me.json()["email_verified"] is True
    assert (introspection["username"], introspection["email_verified"]) == (
        "alice@example.com",
        True,
    )


async def test_sign_up_with_an_existing_address_answers_exactly_as_a_new_one_and_mails_the_owner(
    http, app, inbox
):
    await sign_up(http, "owner@example.com", name="Owner")
    new = await sign_up(
        http, "newcomer@example.com", name="Mallory", password="violet anchor drizzle"
    )
    taken = await sign_up(
        http, "OWNER@example.com", name="Mallory", password="violet anchor drizzle"
    )

    def shape(response, email):
        body = CSRF_FIELD.sub("", response.text).replace(email, "ADDRESS")
        headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
        return response.status_code, headers, body

    assert shape(taken, "owner@example.com") == shape(new, "newcomer@example.com")
    assert "set-cookie" not in new.headers
    assert await count(app, t.User) == 2

    assert await deliver(app) == 3
    inbox.wait_for(3)
    owner_mails = inbox.to("owner@example.com")
    subjects = {m["Subject"]: m for m in owner_mails}  # one pass: in no particular order
    assert sorted(subjects) == [
        "Confirm your e-mail address",
        "Someone tried to sign up with your address",
    ]
    notice = body_of(subjects["Someone tried to sign up with your address"])
    assert "Hello Owner," in notice
    assert "http://127.0.0.1:8000/password/forgot" in notice
    assert [m["Subject"] for m in inbox.to("newcomer@example.com")] == [
        "Confirm your e-mail address"
    ]


async def test_a_new_address_replaces_the_old_one_only_once_its_link_is_opened(
    driver, http, app, inbox
):
    alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
    registered = await driver.register_app(alice.id)
    access = (await driver.tokens(registered))["access_token"]
    await deliver(app)
    await verify(http, link_in(inbox.wait_for(1)[0]))

    response = await post_form(
        http, "/settings/email", {"email": "alice@new.example", "password": "correct horse"}
    )
    assert response.status_code == 200
    assert "Check the new inbox" in response.text
    me = (await driver.me(access)).json()
    assert (me["email"], me["email_verified"]) == ("alice@example.com", True)

    await deliver(app)
    (message,) = inbox.to("alice@new.example")
    assert (await verify(http, link_in(message))).status_code == 200
    me = (await driver.me(access)).json()
    assert (me["email"], me["email_verified"]) == ("alice@new.example", True)


async def test_changing_the_address_needs_the_current_password(driver, http, app, inbox):
    await driver.sign_up("alice@example.com", "correct horse", "Alice")
    response = await post_form(
        http, "/settings/email", {"email": "alice@new.example", "password": "wrong password"}
    )
    assert response.status_code == 400
    assert "Your current password is not correct" in response.text


async def test_a_password_longer_than_the_maximum_does_not_change_the_address(
    driver, http, app, inbox
):
    # Nothing truncates a password (issue 14): the right 256 characters and one more are wrong.
    longest = ("Lz9" + "kq7Xw2Rb" * 40)[:256]
    await driver.sign_up("long@example.com", longest, "Long")
    response = await post_form(
        http, "/settings/email", {"email": "long@new.example", "password": longest + "x"}
    )
    assert response.status_code == 400
    assert "Your current password is not correct" in response.text


async def test_moving_to_an_address_with_an_account_answers_the_same_and_tells_its_owner(
    driver, http, app, inbox
):
    await driver.sign_up("bob@example.com", "battery staple", "Bob")
    await driver.sign_out()
    await driver.sign_up("alice@example.com", "correct horse", "Alice")
    await deliver(app)
    free = await post_form(
        http, "/settings/email", {"email": "alice@new.example", "password": "correct horse"}
    )
    taken = await post_form(
        http, "/settings/email", {"email": "bob@example.com", "password": "correct horse"}
    )
    assert (taken.status_code, CSRF_FIELD.sub("", taken.text).replace("bob@example.com", "X")) == (
        free.status_code,
        CSRF_FIELD.sub("", free.text).replace("alice@new.example", "X"),
    )
    await deliver(app)
    assert [m["Subject"] for m in inbox.to("bob@example.com")] == [
        "Confirm your e-mail address",
        "Someone tried to sign up with your address",
    ]


async def test_a_link_to_an_address_that_got_an_account_meanwhile_changes_nothing(
    driver, http, app, inbox
):
    await driver.sign_up("alice@example.com", "correct horse", "Alice")
    await post_form(
        http, "/settings/email", {"email": "carol@example.com", "password": "correct horse"}
    )
    await deliver(app)
    (move,) = inbox.to("carol@example.com")
    await driver.sign_out()
    await driver.sign_up("carol@example.com", "copper meadow lantern", "Carol")
    response = await verify(http, link_in(move))
    assert response.status_code == 409
    async with app.state.ctx.db.reader() as s:
        emails = (await s.scalars(select(t.User.email).order_by(t.User.name))).all()
    assert emails == ["alice@example.com", "carol@example.com"]


async def test_the_verification_link_can_be_sent_again_while_unverified(driver, http, app, inbox):
    await driver.sign_up("alice@example.com", "correct horse", "Alice")
    response = await post_form(http, "/settings/email/resend", {})
    assert (response.status_code, response.headers["location"]) == (303, "/settings/email/sent")
    await deliver(app)
    first, second = inbox.to("alice@example.com")
    assert link_in(first) != link_in(second)
    assert (await verify(http, link_in(second))).status_code == 200
