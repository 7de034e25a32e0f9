"""Lockout attacks against a live ``piksend serve`` (issue 14), from real source addresses.

Linux routes all of 127.0.0.0/8 to the loopback interface: a client socket bound to
127.0.0.2 reaches the server on 127.0.0.1 and the server sees 127.0.0.2 as its peer. So an
attacker and the owner are two real clients at two addresses, as on the internet.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx
import pytest

pytestmark = pytest.mark.live

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OWNER = ("lockout-owner@example.com", "tangerine otter ladder")


def browser(server, address: str) -> httpx.Client:
    """A browser whose connections leave from ``address``."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, timeout=30)


def sign_in(client: httpx.Client, email: str, password: str, **headers: str) -> httpx.Response:
    token = CSRF.search(client.get("/login").text).group(1)
    data = {"csrf_token": token, "email": email, "password": password}
    return client.post("/login", data=data, headers=headers)


@pytest.fixture(scope="module")
def owner(live):
    live.cli("users", "create", "--email", OWNER[0], "--password", OWNER[1], "--name", "Owner")
    return live


def test_an_attacker_bound_to_127_0_0_2_cannot_lock_out_the_owner_at_127_0_0_3(owner):
    with browser(owner, "127.0.0.2") as attacker, browser(owner, "127.0.0.3") as own:
        # The attack of the issue: 11 failures for someone else's address, then 2 more that
        # claim, in X-Forwarded-For, to come from the owner's address (no proxy is trusted).
        failed = [sign_in(attacker, OWNER[0], "wrong password").status_code for _ in range(11)]
        spoofed = [
            sign_in(attacker, OWNER[0], "wrong", **{"x-forwarded-for": "127.0.0.3"}).status_code
            for _ in range(2)
        ]
        attacker_right = sign_in(attacker, *OWNER)
        owner_right = sign_in(own, *OWNER)
        home = own.get("/")
    assert (failed, spoofed) == ([400] * 10 + [429], [429, 429])
    assert (attacker_right.status_code, owner_right.status_code) == (429, 303)
    assert "Signed in as" in home.text


def test_thirty_parallel_attempts_from_one_address_check_at_most_ten_passwords(owner):
    owner.cli(
        "users", "create", "--email", "burst@example.com", "--password", OWNER[1], "--name", "B"
    )

    async def burst() -> list[int]:
        transport = httpx.AsyncHTTPTransport(
            local_address="127.0.0.4", limits=httpx.Limits(max_connections=30)
        )
        async with httpx.AsyncClient(base_url=owner.url, transport=transport, timeout=60) as client:
            token = CSRF.search((await client.get("/login")).text).group(1)
            wrong = {"csrf_token": token, "email": "burst@example.com", "password": "nope-nope"}
            right = {**wrong, "password": OWNER[1]}
            tries = [client.post("/login", data=wrong) for _ in range(29)]
            tries.append(client.post("/login", data=right))
            return [r.status_code for r in await asyncio.gather(*tries)]

    statuses = Counter(asyncio.run(burst()))
    # At most 10 of the 30 reach the password check (a 400, or the right one's 303).
    assert (statuses[429], statuses[400] + statuses[303]) == (20, 10)


def test_guessing_from_many_addresses_never_locks_the_owners_own_browser(owner):
    owner.cli(
        "users", "create", "--email", "many@example.com", "--password", OWNER[1], "--name", "M"
    )
    with browser(owner, "127.0.0.5") as own:
        assert sign_in(own, "many@example.com", OWNER[1]).status_code == 303  # her browser
        own.post("/logout", data={"csrf_token": CSRF.search(own.get("/").text).group(1)})
        failed: list[int] = []
        for n in range(10, 16):  # six addresses, ten failures each: 60 against 50
            with browser(owner, f"127.0.0.{n}") as attacker:
                failed += [
                    sign_in(attacker, "many@example.com", "wrong password").status_code
                    for _ in range(10)
                ]
        with browser(owner, "127.0.0.20") as new_browser:
            stranger = sign_in(new_browser, "many@example.com", OWNER[1])
        own_again = sign_in(own, "many@example.com", OWNER[1])
    assert Counter(failed) == {400: 50, 429: 10}
    assert (stranger.status_code, own_again.status_code) == (429, 303)
