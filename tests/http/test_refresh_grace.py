"""Issue 10, item 5, through HTTP on SQLite and PostgreSQL: a retried refresh is not an attack
(piksend.oauth.refresh_grace, RFC 9700 §4.14.2). A rotated refresh token presented again by
its client less than 60 s after its rotation, while its successor was never used, gets the
very same successor response; otherwise reuse detection revokes the grant."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from piksend.oauth import tokens
from piksend.storage import tables as t
from piksend.storage.oauth import sealed

CONCURRENCY = 20
REFRESH_REUSED = {
    "error": "invalid_grant",
    "error_description": "Refresh token has already been used; the authorization has been revoked",
}
INACTIVE = {"active": False}


async def first_rotation(driver, registered):
    """A grant's first pair, and the raw response of its first refresh."""
    tokens_ = await driver.tokens(registered)
    rotated = await driver.refresh(registered, tokens_["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    return tokens_, rotated


def sample(app, name: str) -> float:
    for line in app.state.metrics.exposition().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not exposed")


async def retry_rows(app) -> list[dict]:
    async with app.state.ctx.db.unit_of_work() as s:
        rows = (await s.execute(select(t.RefreshRetry.__table__))).mappings().all()
    return [dict(r) for r in rows]


async def refresh_token_rows(app) -> int:
    async with app.state.ctx.db.unit_of_work() as s:
        kinds = (await s.execute(select(t.Token.kind))).scalars().all()
    return kinds.count("refresh")


async def test_a_retry_inside_the_window_gets_byte_identical_tokens_and_the_grant_lives(
    driver, registered, app, clock
):
    first, rotated = await first_rotation(driver, registered)
    clock.advance(59)
    retry = await driver.refresh(registered, first["refresh_token"])
    assert (retry.status_code, retry.content) == (200, rotated.content)
    assert retry.headers["cache-control"] == "no-store"
    successor = rotated.json()
    assert (await driver.me(successor["access_token"])).status_code == 200
    assert (await driver.introspect(registered, successor["refresh_token"]))["active"] is True
    assert await refresh_token_rows(app) == 2  # the first and its one successor: no new pair
    assert sample(app, "piksend_refresh_token_grace_retries_total") == 1.0
    assert sample(app, "piksend_tokens_refreshed_total") == 1.0
    assert sample(app, "piksend_refresh_token_reuse_detections_total") == 0.0
    # the successor still works as the next refresh token, once
    nxt = await driver.refresh(registered, successor["refresh_token"])
    assert nxt.status_code == 200


async def test_every_retry_inside_the_window_sees_the_same_tokens(driver, registered, clock):
    first, rotated = await first_rotation(driver, registered)
    bodies = []
    for _ in range(3):
        clock.advance(10)
        retry = await driver.refresh(registered, first["refresh_token"])
        bodies.append((retry.status_code, retry.content))
    assert bodies == [(200, rotated.content)] * 3


async def test_after_the_successors_first_use_the_old_token_is_reuse_and_the_family_goes(
    driver, registered, app
):
    first, rotated = await first_rotation(driver, registered)
    third = await driver.refresh(registered, rotated.json()["refresh_token"])
    assert third.status_code == 200
    assert [r["digest"] for r in await retry_rows(app)] == [
        tokens.digest(rotated.json()["refresh_token"])
    ]  # the first token's copy went with its successor's first use
    replay = await driver.refresh(registered, first["refresh_token"])
    assert (replay.status_code, replay.json()) == (400, REFRESH_REUSED)
    assert (await driver.introspect(registered, third.json()["access_token"])) == INACTIVE
    assert (await driver.introspect(registered, third.json()["refresh_token"])) == INACTIVE
    assert await retry_rows(app) == []
    assert sample(app, "piksend_refresh_token_reuse_detections_total") == 1.0
    assert sample(app, "piksend_refresh_token_grace_retries_total") == 0.0


async def test_after_the_window_the_old_token_is_reuse_and_the_family_goes(
    driver, registered, clock
):
    first, rotated = await first_rotation(driver, registered)
    clock.advance(60)
    replay = await driver.refresh(registered, first["refresh_token"])
    assert (replay.status_code, replay.json()) == (400, REFRESH_REUSED)
    assert (await driver.introspect(registered, rotated.json()["access_token"])) == INACTIVE
    assert (await driver.introspect(registered, rotated.json()["refresh_token"])) == INACTIVE


async def test_twenty_concurrent_presentations_rotate_once_and_all_get_the_one_successor(
    driver, registered, app
):
    first = await driver.tokens(registered)
    responses = await asyncio.gather(
        *(driver.refresh(registered, first["refresh_token"]) for _ in range(CONCURRENCY))
    )
    # One rotation wins; every other presentation lost its claim inside the window while the
    # successor was unused: a grace retry, given the winner's response (single successor).
    assert [r.status_code for r in responses] == [200] * CONCURRENCY
    assert {r.content for r in responses} == {responses[0].content}
    assert await refresh_token_rows(app) == 2
    successor = responses[0].json()
    assert (await driver.introspect(registered, successor["refresh_token"]))["active"] is True
    assert sample(app, "piksend_tokens_refreshed_total") == 1.0
    assert sample(app, "piksend_refresh_token_grace_retries_total") == CONCURRENCY - 1


async def test_the_kept_response_opens_only_with_the_old_token(driver, registered, app):
    first, rotated = await first_rotation(driver, registered)
    successor = rotated.json()
    [row] = await retry_rows(app)
    old_digest = tokens.digest(first["refresh_token"])
    assert row["digest"] == old_digest
    assert sealed.unseal(first["refresh_token"], old_digest, bytes(row["sealed"])) == (
        rotated.content.decode()
    )
    others = (
        successor["refresh_token"],
        successor["access_token"],
        first["access_token"],
        tokens.generate(tokens.Prefix.REFRESH_TOKEN),
    )
    assert [sealed.unseal(o, old_digest, bytes(row["sealed"])) for o in others] == [None] * 4


async def test_nothing_in_the_database_authenticates_after_a_rotation(driver, registered, app):
    first, rotated = await first_rotation(driver, registered)
    successor = rotated.json()
    secrets = {
        first["refresh_token"],
        first["access_token"],
        successor["refresh_token"],
        successor["access_token"],
    }
    dump = []
    async with app.state.ctx.db.unit_of_work() as s:
        for table in t.Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                dump.extend(row)
    text = "\n".join(
        bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v) for v in dump
    )
    assert [secret for secret in secrets if secret in text] == []
    # The kept row's values are no credential either: each is refused as a refresh token.
    [row] = await retry_rows(app)
    for value in (row["digest"], row["successor_digest"]):
        refused = await driver.refresh(registered, value)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")


async def test_the_oauth_guide_tells_developers_to_retry_a_lost_refresh(http):
    page = await http.get("/docs/oauth")
    assert page.status_code == 200
    assert "retry it with the refresh token you still hold: within 1 minute of" in page.text
    assert "<em>exactly the same</em> new tokens" in page.text
