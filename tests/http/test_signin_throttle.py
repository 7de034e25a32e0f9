"""Sign-in throttling that protects the owner (issue 14): counted per (account, address), per
address and, for browsers the account does not know, per account; always before the check."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from contextlib import asynccontextmanager

import httpx
import pytest

from piksend.accounts.throttle import SignInThrottle
from piksend.app import create_app
from piksend.storage.counters import RedisCounters
from tests.conftest import ISSUER
from tests.support.driver import OAuthDriver, csrf_of

OWNER = ("alice@example.com", "correct horse")
MESSAGE_PAIR = "Too many failed sign-in attempts. Try again in 15 minutes."
MESSAGE_ACCOUNT = (
    "Too many failed sign-in attempts for this account. Try again in 15 minutes, "
    "or sign in from a browser you have used with this account before."
)
MESSAGE_ADDRESS = "Too many failed sign-in attempts from your network. Try again in 15 minutes."


class Browser:
    """One browser (its own cookies) at one client address."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def sign_in(self, email: str, password: str, **headers: str) -> httpx.Response:
        token = csrf_of((await self.http.get("/login")).text)
        data = {"csrf_token": token, "email": email, "password": password}
        return await self.http.post("/login", data=data, headers=headers)

    async def fail(self, times: int, email: str = OWNER[0]) -> list[int]:
        return [(await self.sign_in(email, "wrong password")).status_code for _ in range(times)]


@asynccontextmanager
async def browser_at(app, address: str):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield Browser(client)


@pytest.fixture
async def tight(settings, clock):
    """An app with small limits, so each case needs few argon2 checks."""
    application = create_app(
        settings.with_(
            signin_max_per_account_and_address=3,
            signin_max_per_account=5,
            signin_max_per_address=6,
            signups_per_address=2,
        ),
        clock=clock,
    )
    yield application
    await application.state.ctx.db.dispose()


@pytest.fixture
async def tight_owner(tight):
    """Alice signed up in her own browser at 127.0.0.1, which now holds her device cookie."""
    async with browser_at(tight, "127.0.0.1") as browser:
        await OAuthDriver(browser.http, tight).sign_up(OWNER[0], OWNER[1], "Alice")
        yield browser


async def test_an_attacker_at_one_address_cannot_lock_out_the_owner_at_another(app, alice):
    async with browser_at(app, "127.0.0.2") as attacker, browser_at(app, "127.0.0.3") as owner:
        assert await attacker.fail(13) == [400] * 10 + [429] * 3
        refused = await attacker.sign_in(*OWNER)
        signed_in = await owner.sign_in(*OWNER)
    assert (refused.status_code, signed_in.status_code) == (429, 303)
    assert MESSAGE_PAIR in refused.text
    assert refused.headers["retry-after"] == "900"


async def test_x_forwarded_for_from_an_untrusted_peer_does_not_move_the_count(app, alice):
    async with browser_at(app, "127.0.0.2") as attacker, browser_at(app, "127.0.0.3") as owner:
        statuses = [
            (await attacker.sign_in(OWNER[0], "wrong", **{"x-forwarded-for": "127.0.0.3"}))
            for _ in range(11)
        ]
        signed_in = await owner.sign_in(*OWNER)
    assert ([r.status_code for r in statuses], signed_in.status_code) == ([400] * 10 + [429], 303)


async def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(settings, clock):
    proxied = create_app(settings.with_(trusted_proxies=("127.0.0.10/32",)), clock=clock)
    try:
        async with browser_at(proxied, "127.0.0.10") as proxy:
            await OAuthDriver(proxy.http, proxied).sign_up(OWNER[0], OWNER[1], "Alice")
            proxy.http.cookies.clear()  # the attacker and the owner use fresh browsers
            attacker = {"x-forwarded-for": "127.0.0.3, 198.51.100.20"}  # left part: forged
            statuses = [
                (await proxy.sign_in(OWNER[0], "wrong", **attacker)).status_code for _ in range(11)
            ]
            proxy.http.cookies.clear()
            owner = await proxy.sign_in(*OWNER, **{"x-forwarded-for": "198.51.100.30"})
    finally:
        await proxied.state.ctx.db.dispose()
    assert (statuses, owner.status_code) == ([400] * 10 + [429], 303)


async def test_thirty_concurrent_attempts_check_at_most_the_limit_of_ten(app, http):
    token = csrf_of((await http.get("/login")).text)

    async def attempt():
        data = {"csrf_token": token, "email": OWNER[0], "password": "wrong password"}
        return (await http.post("/login", data=data)).status_code

    statuses = await asyncio.gather(*(attempt() for _ in range(30)))
    assert Counter(statuses) == {400: 10, 429: 20}


async def test_thirty_concurrent_attempts_check_at_most_the_limit_with_counters_in_redis(app, http):
    url = os.environ.get("PIKSEND_TEST_REDIS_URL")
    if not url:
        pytest.skip("PIKSEND_TEST_REDIS_URL is not set: Redis variant skipped (CI sets it)")
    c = app.state.ctx
    counters = RedisCounters(url, prefix=f"piksend-test:{uuid.uuid4().hex}:")
    c.throttle = SignInThrottle(counters, c.throttle.policy, secret_key=c.settings.secret_key)
    try:
        token = csrf_of((await http.get("/login")).text)
        data = {"csrf_token": token, "email": OWNER[0], "password": "wrong password"}
        responses = await asyncio.gather(*(http.post("/login", data=data) for _ in range(30)))
    finally:
        await counters.close()
    assert Counter(r.status_code for r in responses) == {400: 10, 429: 20}


async def test_a_correct_password_takes_back_its_own_attempt_and_nothing_else(app, alice):
    async with browser_at(app, "127.0.0.2") as browser:
        before = await browser.fail(9)
        right = await browser.sign_in(*OWNER)
        browser.http.cookies.clear()
        after = await browser.fail(2)
    assert (before, right.status_code, after) == ([400] * 9, 303, [400, 429])


async def test_the_account_slows_down_for_unknown_browsers_but_never_for_the_owners_own(
    tight, tight_owner
):
    statuses = []
    for n in range(2, 5):  # three addresses, three failures each: 9 against a limit of 5
        async with browser_at(tight, f"127.0.0.{n}") as attacker:
            statuses += await attacker.fail(3)
    async with browser_at(tight, "127.0.0.9") as new_browser:
        stranger = await new_browser.sign_in(*OWNER)
    await tight_owner.sign_in(OWNER[0], "a typo")
    own = await tight_owner.sign_in(*OWNER)
    assert (statuses, stranger.status_code, own.status_code) == (
        [400] * 5 + [429] * 4,
        429,
        303,
    )
    assert MESSAGE_ACCOUNT in stranger.text


async def test_a_device_cookie_of_another_account_or_tampered_with_does_not_exempt(
    tight, tight_owner
):
    async with browser_at(tight, "127.0.0.5") as bob:
        await OAuthDriver(bob.http, tight).sign_up("bob@example.com", "bob-password", "Bob")
        bobs_cookie = bob.http.cookies["piksend_device"]
    alices_cookie = tight_owner.http.cookies["piksend_device"]
    for n in range(2, 4):
        async with browser_at(tight, f"127.0.0.{n}") as attacker:
            await attacker.fail(3)
    answers = []
    for cookie in (bobs_cookie, alices_cookie[:-2] + "xx"):
        async with browser_at(tight, "127.0.0.9") as forger:
            forger.http.cookies.set("piksend_device", cookie)
            answers.append((await forger.sign_in(*OWNER)).status_code)
    assert answers == [429, 429]


async def test_one_address_spraying_many_accounts_is_stopped_by_its_own_limit(tight, tight_owner):
    async with browser_at(tight, "127.0.0.2") as sprayer:
        statuses = [
            (await sprayer.sign_in(f"user{n}@example.com", "12345678")).status_code
            for n in range(8)
        ]
        last = await sprayer.sign_in(*OWNER)
    async with browser_at(tight, "127.0.0.3") as elsewhere:
        owner = await elsewhere.sign_in(*OWNER)
    assert (statuses, last.status_code, owner.status_code) == ([400] * 6 + [429] * 2, 429, 303)
    assert MESSAGE_ADDRESS in last.text


async def test_sign_ups_are_limited_per_client_address(tight):
    async def sign_up(browser: Browser, n: int) -> int:
        token = csrf_of((await browser.http.get("/signup")).text)
        data = {
            "csrf_token": token,
            "name": f"User {n}",
            "email": f"user{n}@example.com",
            "password": "tangerine otter ladder",
        }
        return (await browser.http.post("/signup", data=data)).status_code

    async with browser_at(tight, "127.0.0.2") as one, browser_at(tight, "127.0.0.3") as other:
        statuses = [await sign_up(one, n) for n in range(3)] + [await sign_up(other, 3)]
    assert statuses == [200, 200, 429, 200]


async def test_sign_up_refuses_a_common_password_with_the_policy_message(http):
    token = csrf_of((await http.get("/signup")).text)
    data = {"csrf_token": token, "name": "Bob", "email": "bob@example.com", "password": "12345678"}
    response = await http.post("/signup", data=data)
    assert response.status_code == 400
    assert "This password is on lists of common and breached passwords: choose another" in (
        response.text
    )
