"""Sign-up, sign-in and sessions: cookie flags, CSRF, throttling, clear errors."""

from __future__ import annotations

from tests.support.driver import csrf_of


async def test_session_cookie_is_httponly_and_samesite_lax(http):
    page = await http.get("/signup")
    response = await http.post(
        "/signup",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "Bob",
            "email": "bob@example.com",
            "password": "bob-password",
        },
    )
    assert response.status_code == 200  # "check your inbox" (issue 14): the session is sign-in's
    response = await http.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "bob@example.com",
            "password": "bob-password",
        },
    )
    assert response.status_code == 303
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "piksend_session" in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the public URL is http://127.0.0.1 in tests


async def test_signup_without_csrf_token_is_refused(http):
    response = await http.post(
        "/signup", data={"name": "Bob", "email": "bob@example.com", "password": "bob-password"}
    )
    assert response.status_code == 403


async def test_signup_shows_inline_errors(http):
    page = await http.get("/signup")
    response = await http.post(
        "/signup",
        data={"csrf_token": csrf_of(page.text), "name": "", "email": "nope", "password": "short"},
    )
    assert response.status_code == 400
    assert "Enter a valid email address" in response.text
    assert "Password must be at least 8 characters" in response.text
    assert "Enter your name" in response.text


async def test_a_duplicate_email_creates_no_account_and_signs_no_one_in(driver, alice, http):
    await driver.sign_out()
    page = await http.get("/signup")
    response = await http.post(
        "/signup",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "A2",
            "email": "ALICE@example.com",
            "password": "another-password",
        },
    )
    # Issue 14: the answer is the one a new address gets ("check your inbox"), never a refusal
    # that would say the address has an account; tests/http/test_email_verification.py
    # compares the two answers whole.
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    assert (await http.get("/settings/oauth")).status_code == 303


async def test_wrong_password_is_a_generic_message(driver, alice):
    await driver.sign_out()
    response = await driver.sign_in("alice@example.com", "wrong password")
    assert response.status_code == 400
    assert "Invalid email or password" in response.text


async def test_sign_in_is_throttled_after_ten_failures(driver, alice):
    await driver.sign_out()
    for _ in range(10):
        assert (await driver.sign_in("alice@example.com", "wrong password")).status_code == 400
    blocked = await driver.sign_in("alice@example.com", "correct horse")
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text


async def test_logout_ends_the_server_side_session(driver, alice, http):
    old = http.cookies.get("piksend_session")
    assert "Signed in as" in (await http.get("/")).text
    await driver.sign_out()
    # replaying the old cookie does not sign anyone in
    http.cookies.set("piksend_session", old)
    response = await http.get("/")
    assert "Signed in as" not in response.text


async def test_home_page_links_to_sign_up_sign_in_and_docs(http):
    response = await http.get("/")
    assert response.status_code == 200
    for link in ('href="/signup"', 'href="/login"', 'href="/docs/oauth"'):
        assert link in response.text


async def test_concurrent_failed_sign_ins_are_each_counted_and_none_is_a_server_error(http, app):
    import asyncio

    from sqlalchemy import select

    from piksend.storage import tables as t

    token = csrf_of((await http.get("/login")).text)

    async def fail_once():
        data = {"csrf_token": token, "email": "nobody@example.com", "password": "wrong-password"}
        return await http.post("/login", data=data)

    responses = await asyncio.gather(*(fail_once() for _ in range(30)))
    statuses = sorted(r.status_code for r in responses)
    # Each attempt is counted before its password is checked: 10 checked, 20 refused unchecked.
    assert statuses == [400] * 10 + [429] * 20
    async with app.state.ctx.db.unit_of_work() as s:
        counts = sorted((await s.scalars(select(t.LoginThrottle.failures))).all())
    # The address and the (account, address) pair count all 30; the account, the 10 let through.
    assert counts == [10, 30, 30]


async def test_failures_older_than_the_window_start_a_new_count(driver, alice, clock, app):
    from sqlalchemy import select

    from piksend.storage import tables as t

    signed_up_at = clock.now
    await driver.sign_out()
    for _ in range(9):
        assert (await driver.sign_in("alice@example.com", "wrong password")).status_code == 400
    clock.advance(16 * 60)
    assert (await driver.sign_in("alice@example.com", "wrong password")).status_code == 400
    async with app.state.ctx.db.unit_of_work() as s:
        rows = (await s.scalars(select(t.LoginThrottle))).all()
    # The address and the (account, address) pair start a new window at 1. Older windows: the
    # sign-up's count, and the account's, which alice's sign-in took back to 0 and her failures
    # never reached (this browser holds her device cookie).
    assert sorted((row.failures, row.window_started_at) for row in rows) == [
        (0, signed_up_at),
        (1, signed_up_at),
        (1, clock.now),
        (1, clock.now),
    ]
