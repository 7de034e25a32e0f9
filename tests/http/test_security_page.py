"""/settings/security (issue 14, item 5), on SQLite and PostgreSQL: each signed-in session with
its browser, address and last seen; signing out one, or everywhere else; idle and absolute
expiry on the test clock; the security log's events, pages and JSON download."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from piksend.accounts import links
from piksend.storage import tables as t
from tests.conftest import ISSUER
from tests.support.driver import OAuthDriver, csrf_of
from tests.support.portal import Portal

PASSWORD = "correct horse"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
BROWSER = re.compile(r'<strong class="session-browser">([^<]*)</strong>')
ADDRESS = re.compile(r'<dd class="session-address">([^<]*)</dd>')
LAST_SEEN = re.compile(r'<dd class="session-last-seen"><time datetime="([^"]+)"')
HANDLE = re.compile(r'name="session" value="([^"]+)"')
DAY = 24 * 3600


@pytest.fixture
async def browsers(app):
    """Browsers of their own (cookies, user agent and address), closed after the test."""
    opened: list[httpx.AsyncClient] = []

    def open_browser(user_agent: str, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=(address, 50000)
        )
        client = httpx.AsyncClient(
            transport=transport, base_url=ISSUER, headers={"user-agent": user_agent}
        )
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        await client.aclose()


async def signed_in_browser(app, browsers, user_agent: str, address: str = "127.0.0.1"):
    client = browsers(user_agent, address)
    assert (
        await OAuthDriver(client, app).sign_in("alice@example.com", PASSWORD)
    ).status_code == 303
    return client


async def security_page(http) -> httpx.Response:
    response = await http.get("/settings/security")
    assert response.status_code == 200, response.text[:300]
    return response


def shown_sessions(page: httpx.Response) -> list[tuple[str, str]]:
    text = page.text
    return list(zip(BROWSER.findall(text), ADDRESS.findall(text), strict=True))


async def is_signed_in(http) -> bool:
    return (await http.get("/settings/security")).status_code == 200


async def log_of(http) -> list[dict]:
    response = await http.get("/settings/security/log.json")
    assert response.status_code == 200
    return response.json()["events"]


async def test_the_page_lists_each_session_with_its_browser_address_and_last_seen(
    app, alice, http, browsers, clock
):
    clock.advance(120)
    await signed_in_browser(app, browsers, CHROME, "192.0.2.10")
    clock.advance(120)
    firefox = await signed_in_browser(app, browsers, FIREFOX, "2001:db8::7")

    page = await security_page(firefox)

    assert shown_sessions(page) == [
        ("Firefox on Windows", "2001:db8::7"),
        ("Chrome on Linux", "192.0.2.10"),
        ("a Python program", "127.0.0.1"),
    ]
    assert "This browser" in page.text
    assert LAST_SEEN.findall(page.text) == [
        clock.now.isoformat(),
        (clock.now - timedelta(seconds=120)).isoformat(),
        (clock.now - timedelta(seconds=240)).isoformat(),
    ]
    assert page.headers["cache-control"] == "no-store"


async def test_last_seen_is_written_at_most_once_a_minute(app, alice, http, clock):
    async def last_seen():
        async with app.state.ctx.db.reader() as s:
            return await s.scalar(select(t.BrowserSession.last_seen_at))

    signed_in_at = clock.now
    clock.advance(59)
    await security_page(http)
    assert await last_seen() == signed_in_at
    clock.advance(1)
    await security_page(http)
    assert await last_seen() == clock.now


async def test_signing_out_one_session_ends_exactly_that_one(app, alice, http, browsers):
    chrome = await signed_in_browser(app, browsers, CHROME)
    firefox = await signed_in_browser(app, browsers, FIREFOX)
    page = await security_page(http)
    chrome_handle = HANDLE.findall(page.text)[
        [b for b, _ in shown_sessions(page)].index("Chrome on Linux") - 1
    ]

    response = await http.post(
        "/settings/security/sessions/sign-out",
        data={"csrf_token": csrf_of(page.text), "session": chrome_handle},
    )

    assert response.status_code == 303
    assert (await is_signed_in(http), await is_signed_in(chrome), await is_signed_in(firefox)) == (
        True,
        False,
        True,
    )
    assert [b for b, _ in shown_sessions(await security_page(http))] == [
        "a Python program",
        "Firefox on Windows",
    ]


async def test_a_session_of_someone_else_cannot_be_signed_out(app, driver, alice, http, browsers):
    mallory = browsers(FIREFOX)
    await OAuthDriver(mallory, app).sign_up(
        "mallory@example.com", "violet tangerine orbit", "Mallory"
    )
    alices_handle = await _digest_of_only_session(app, alice.id)
    page = await security_page(mallory)

    response = await mallory.post(
        "/settings/security/sessions/sign-out",
        data={"csrf_token": csrf_of(page.text), "session": alices_handle},
    )

    assert response.status_code == 404
    assert await is_signed_in(http)


async def _digest_of_only_session(app, user_id: str) -> str:
    async with app.state.ctx.db.reader() as s:
        (digest,) = (
            await s.scalars(
                select(t.BrowserSession.digest).where(t.BrowserSession.user_id == user_id)
            )
        ).all()
    return digest


async def test_sign_out_everywhere_else_keeps_only_this_session(app, alice, http, browsers, clock):
    chrome = await signed_in_browser(app, browsers, CHROME)
    firefox = await signed_in_browser(app, browsers, FIREFOX)
    page = await security_page(firefox)
    clock.advance(1)

    response = await firefox.post(
        "/settings/security/sessions/sign-out-others", data={"csrf_token": csrf_of(page.text)}
    )

    assert (response.status_code, response.headers["location"]) == (
        303,
        "/settings/security?done=others",
    )
    assert (await is_signed_in(http), await is_signed_in(chrome), await is_signed_in(firefox)) == (
        False,
        False,
        True,
    )
    assert shown_sessions(await security_page(firefox)) == [("Firefox on Windows", "127.0.0.1")]
    (event, *_) = await log_of(firefox)
    assert (event["kind"], event["details"]) == ("other_sessions_ended", {"ended": 2})


async def test_a_session_unused_for_the_idle_days_ends(app, alice, http, clock):
    clock.advance(7 * DAY - 1)
    assert await is_signed_in(http)  # seen now: the idle time starts again
    clock.advance(7 * DAY - 1)
    assert await is_signed_in(http)
    clock.advance(7 * DAY)
    assert not await is_signed_in(http)


async def test_a_session_ends_at_the_absolute_limit_however_busy(app, alice, http, clock):
    for _ in range(4):
        clock.advance(6 * DAY)
        assert await is_signed_in(http)
    clock.advance(6 * DAY - 1)  # 30 days less a second since sign-in
    assert await is_signed_in(http)
    clock.advance(1)
    assert not await is_signed_in(http)


async def test_the_idle_and_absolute_limits_are_settings(settings, clock):
    from piksend.app import create_app

    application = create_app(settings.with_(session_idle_days=1, session_max_days=2), clock=clock)
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            await OAuthDriver(client, application).sign_up()
            clock.advance(DAY - 1)
            assert await is_signed_in(client)
            clock.advance(DAY)
            assert not await is_signed_in(client)
            login = await OAuthDriver(client, application).sign_in("alice@example.com", PASSWORD)
            assert login.headers["set-cookie"].count("Max-Age=172800") == 1
    finally:
        await application.state.ctx.db.dispose()


async def test_each_event_appears_once_with_its_fields_and_no_secret(
    app, driver, alice, http, browsers, registered, clock
):
    chrome = browsers(CHROME, "198.51.100.4")
    clock.advance(1)
    wrong = await OAuthDriver(chrome, app).sign_in("alice@example.com", "not the password")
    assert wrong.status_code == 400
    clock.advance(1)
    await OAuthDriver(chrome, app).sign_in("alice@example.com", PASSWORD)
    cookies = [http.cookies["piksend_session"], chrome.cookies["piksend_session"]]
    clock.advance(1)
    await driver.authorize_and_approve(registered, scopes=["profile:read"])
    clock.advance(1)
    page = await security_page(http)
    assert (await Portal(http).revoke(registered.client_id)).status_code == 303
    clock.advance(1)
    rotated = await Portal(http).rotate(registered.client_id)
    assert rotated.status_code == 200
    clock.advance(1)
    page = await http.get("/settings/password")
    changed = await http.post(
        "/settings/password",
        data={
            "csrf_token": csrf_of(page.text),
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
        },
    )
    assert changed.status_code == 200
    async with app.state.ctx.db.unit_of_work() as s:
        reset = await links.issue(
            s,
            purpose=links.Purpose.RESET_PASSWORD,
            user_id=alice.id,
            email=alice.email,
            ttl=timedelta(minutes=30),
            now=clock.now,
        )
        verify = await links.issue(
            s,
            purpose=links.Purpose.VERIFY_EMAIL,
            user_id=alice.id,
            email="alice@new.example.com",
            ttl=timedelta(hours=1),
            now=clock.now,
        )
    clock.advance(1)
    form = csrf_of((await chrome.get("/password/forgot")).text)
    await chrome.post("/verify", data={"csrf_token": form, "token": verify})
    clock.advance(1)
    done = await chrome.post(
        "/password/reset",
        data={"csrf_token": form, "token": reset, "password": "yet another passphrase"},
    )
    assert done.status_code == 200
    clock.advance(1)
    await OAuthDriver(http, app).sign_in("alice@new.example.com", "yet another passphrase")

    events = await log_of(http)

    chrome_at = {"address": "198.51.100.4", "browser": "Chrome on Linux"}
    here = {"address": "127.0.0.1", "browser": "a Python program"}
    app_fields = {"client_id": registered.client_id, "app": "Example App"}
    assert [{k: v for k, v in e.items() if k not in ("id", "at")} for e in events] == [
        {"kind": "sign_in", **here, "details": {}},
        {"kind": "password_reset", **chrome_at, "details": {}},
        {
            "kind": "email_changed",
            **chrome_at,
            "details": {"from": "alice@example.com", "to": "alice@new.example.com"},
        },
        {"kind": "password_changed", **here, "details": {}},
        {"kind": "secret_rotated", **here, "details": {**app_fields, "grace_seconds": 0}},
        {"kind": "app_revoked", **here, "details": app_fields},
        {"kind": "app_authorized", **here, "details": {**app_fields, "scopes": ["profile:read"]}},
        {"kind": "sign_in", **chrome_at, "details": {}},
        {"kind": "sign_in_failed", **chrome_at, "details": {}},
        {"kind": "sign_in", **here, "details": {}},
    ]
    assert [e["at"] for e in events] == [
        (clock.now - timedelta(seconds=ago)).isoformat() for ago in range(10)
    ]
    dumped = json.dumps(events)
    for secret in (PASSWORD, "not the password", reset, verify, registered.client_secret, *cookies):
        assert secret not in dumped


async def test_a_failed_sign_in_for_an_address_without_an_account_logs_nothing(app, http, driver):
    response = await driver.sign_in("nobody@example.com", "whatever it is")
    assert response.status_code == 400
    async with app.state.ctx.db.reader() as s:
        assert (await s.scalars(select(t.SecurityEvent))).all() == []


async def test_the_log_is_paged_newest_first_by_a_cursor(app, alice, http, browsers, clock):
    for i in range(24):  # from addresses of their own: the sign-in throttle stays quiet
        clock.advance(1)
        stranger = browsers(FIREFOX, f"192.0.2.{i + 1}")
        wrong = await OAuthDriver(stranger, app).sign_in("alice@example.com", "not the password")
        assert wrong.status_code == 400
    first = await security_page(http)
    older = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert older is not None
    second = await http.get(html.unescape(older.group(1)))

    first_times = re.findall(r'data-kind="(\w+)">\s*<td><time datetime="([^"]+)"', first.text)
    second_times = re.findall(r'data-kind="(\w+)">\s*<td><time datetime="([^"]+)"', second.text)
    expected = [
        ("sign_in_failed", (clock.now - timedelta(seconds=i)).isoformat()) for i in range(24)
    ]
    assert first_times == expected[:20]
    assert second_times == [
        *expected[20:],
        ("sign_in", (clock.now - timedelta(seconds=24)).isoformat()),
    ]
    assert 'rel="next"' not in second.text


async def test_the_log_downloads_as_an_attachment_never_cached(app, alice, http):
    response = await http.get("/settings/security/log.json")

    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        'attachment; filename="piksend-security-log.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    assert [e["kind"] for e in response.json()["events"]] == ["sign_in"]


@pytest.mark.parametrize(
    "path", ["/settings/security/sessions/sign-out", "/settings/security/sessions/sign-out-others"]
)
async def test_a_form_without_its_csrf_token_is_refused(app, alice, http, browsers, path):
    chrome = await signed_in_browser(app, browsers, CHROME)
    handle = HANDLE.findall((await security_page(http)).text)[0]

    response = await http.post(path, data={"session": handle})

    assert response.status_code == 403
    assert await is_signed_in(chrome)


async def test_old_events_and_dead_sessions_are_trimmed(app, alice, http, clock):
    from piksend.storage.maintenance import TrimPolicy, trim_dead_sessions, trim_security_log

    db = app.state.ctx.db
    clock.advance(90 * DAY)
    assert await trim_security_log(
        db, now=clock.now, keep=timedelta(days=90), policy=TrimPolicy()
    ) == {"security_events": 0}
    clock.advance(1)
    assert await trim_security_log(
        db, now=clock.now, keep=timedelta(days=90), policy=TrimPolicy()
    ) == {"security_events": 1}
    assert await trim_dead_sessions(
        db, now=clock.now, idle=timedelta(days=7), absolute=timedelta(days=30), policy=TrimPolicy()
    ) == {"idle_browser_sessions": 1}
