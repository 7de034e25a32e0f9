"""What ``piksend users disable`` and ``users set-password`` do to an account, on both
databases: a disabled account cannot sign in, its sessions end and its apps' tokens are
revoked (accounts/admin.py); a password set by the operator signs out every session."""

from __future__ import annotations

from piksend.accounts import admin
from tests.support.accounts import signed_in

PASSWORD = "correct horse"  # the driver's sign-up default
NEW_PASSWORD = "another long quiet phrase"


async def test_a_disabled_account_cannot_sign_in_and_its_session_ends(
    driver, alice, http, app, clock
):
    assert await signed_in(http)
    async with app.state.ctx.db.unit_of_work() as s:
        await admin.disable_account(s, email="alice@example.com", now=clock())
    assert await signed_in(http) is False
    refused = await driver.sign_in("alice@example.com", PASSWORD)
    wrong = await driver.sign_in("alice@example.com", "not her password")
    assert (refused.status_code, refused.text) == (wrong.status_code, wrong.text)
    assert refused.status_code == 400


async def test_a_disabled_accounts_tokens_are_revoked_and_cannot_be_refreshed(
    driver, alice, registered, app, clock
):
    issued = await driver.tokens(registered)
    async with app.state.ctx.db.unit_of_work() as s:
        await admin.disable_account(s, email="alice@example.com", now=clock())
    assert await driver.introspect(registered, issued["access_token"]) == {"active": False}
    refreshed = await driver.refresh(registered, issued["refresh_token"])
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")


async def test_a_password_set_by_the_operator_ends_every_session(driver, alice, http, app, clock):
    async with app.state.ctx.db.unit_of_work() as s:
        await admin.set_password(s, email="alice@example.com", password=NEW_PASSWORD, now=clock())
    assert await signed_in(http) is False
    assert (await driver.sign_in("alice@example.com", PASSWORD)).status_code == 400
    assert (await driver.sign_in("alice@example.com", NEW_PASSWORD)).status_code == 303
