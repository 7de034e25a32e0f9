"""A grant ends by itself (RFC 9700 §4.14.2, issue 15 item 5): an idle timeout (30 days) and an
absolute lifetime (90 days) through HTTP with the test clock, on SQLite and PostgreSQL; the
connected apps page says when access ends."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from piksend.app import create_app
from tests.support.driver import OAuthDriver

DAY = 86400
EXPIRED = {"error": "invalid_grant", "error_description": "Refresh token has expired"}
ENDED = {
    "error": "invalid_grant",
    "error_description": "This authorization has reached its maximum lifetime; "
    "ask the user to sign in again",
}


def access_ends(html: str) -> str:
    found = re.findall(r'Access ends on <time datetime="([^"]+)">', html)
    assert len(found) == 1, html
    return found[0]


async def test_a_grant_refreshed_every_twenty_days_ends_ninety_days_after_it_was_made(
    driver, registered, clock
):
    granted = clock()
    refresh_token = (await driver.tokens(registered))["refresh_token"]
    for _ in range(4):  # days 20, 40, 60, 80: each rotation succeeds
        clock.advance(20 * DAY)
        response = await driver.refresh(registered, refresh_token)
        assert response.status_code == 200, response.text
        refresh_token = response.json()["refresh_token"]
    clock.advance(10 * DAY)  # day 90: the successor issued at day 80 ended with the grant
    response = await driver.refresh(registered, refresh_token)
    assert (response.status_code, response.json()) == (400, EXPIRED)
    assert clock() == granted + timedelta(days=90)


async def test_a_grant_unused_for_thirty_days_ends(driver, registered, clock):
    refresh_token = (await driver.tokens(registered))["refresh_token"]
    clock.advance(30 * DAY - 1)
    still = await driver.refresh(registered, refresh_token)
    assert still.status_code == 200, still.text
    clock.advance(30 * DAY)
    response = await driver.refresh(registered, still.json()["refresh_token"])
    assert (response.status_code, response.json()) == (400, EXPIRED)


@pytest.fixture
async def short_grants(settings, clock):
    """Grants that end after 10 days, shorter than the 30-day idle timeout."""
    application = create_app(settings.with_(grant_max_age=10 * DAY), clock=clock)
    yield application
    await application.state.ctx.db.dispose()


async def test_a_grant_shorter_than_the_idle_timeout_ends_on_time(short_grants, clock, http):
    import httpx

    from tests.conftest import ISSUER

    transport = httpx.ASGITransport(app=short_grants, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        driver = OAuthDriver(client, short_grants)
        alice = await driver.sign_up("alice@example.com", "correct horse", "Alice")
        registered = await driver.register_app(alice.id)
        refresh_token = (await driver.tokens(registered))["refresh_token"]
        clock.advance(10 * DAY - 1)
        response = await driver.refresh(registered, refresh_token)
        assert response.status_code == 200, response.text
        clock.advance(1)
        ended = await driver.refresh(registered, response.json()["refresh_token"])
        assert (ended.status_code, ended.json()) == (400, EXPIRED)


async def test_connected_apps_shows_when_access_ends(driver, registered, clock, http):
    granted = clock()
    refresh_token = (await driver.tokens(registered))["refresh_token"]
    page = await http.get("/settings/connected-apps")
    assert access_ends(page.text) == (granted + timedelta(days=30)).isoformat()
    clock.advance(5 * DAY)  # within the browser session's idle expiry
    assert (await driver.refresh(registered, refresh_token)).status_code == 200
    page = await http.get("/settings/connected-apps")
    ends = granted + timedelta(days=35)
    assert access_ends(page.text) == ends.isoformat()
    assert (
        f'Access ends on <time datetime="{ends.isoformat()}">'
        f"{ends.strftime('%Y-%m-%d %H:%M UTC')}</time>"
    ) in page.text
