"""The server trims expired rows itself, in bounded batches, keeping a grace period."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from piksend.clients import reveals
from piksend.clients.registry import create_app
from piksend.clients.validation import AppFields
from piksend.oauth.types import AuthorizationCode, TokenKind, TokenRecord
from piksend.storage import tables as t
from piksend.storage.engine import Database
from piksend.storage.maintenance import TrimPolicy, run_round, trim_expired
from piksend.storage.oauth import SqlOAuthStore

NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
POLICY = TrimPolicy(batch=2, max_batches=100, grace=timedelta(days=1))


async def _seed(db: Database) -> str:
    async with db.unit_of_work() as s:
        s.add(
            t.User(
                id="usr_1",
                email="a@example.com",
                name="A",
                password_hash="x",
                avatar_url=None,
                created_at=NOW,
            )
        )
        await s.flush()
        client, _ = await create_app(
            s,
            owner_id="usr_1",
            now=NOW,
            fields=AppFields(
                name="App", redirect_uris=("https://app.example.com/cb",), scopes=("profile:read",)
            ),
        )
        store = SqlOAuthStore(s)
        consent = await store.create_consent(
            user_id="usr_1", client_id=client.client_id, scope=("profile:read",), now=NOW
        )
        expired_at = {
            "long-expired": NOW - timedelta(days=3),
            "just-expired": NOW - timedelta(hours=1),  # inside the grace period: kept
            "live": NOW + timedelta(hours=1),
        }
        records = [
            TokenRecord(
                digest=f"{label}-{i}",
                kind=TokenKind.REFRESH,
                consent_id=consent,
                client_id=client.client_id,
                user_id="usr_1",
                scope=("profile:read",),
                issued_at=NOW - timedelta(days=30),
                expires_at=when,
            )
            for label, when in expired_at.items()
            for i in range(5)
        ]
        await store.save_tokens(*records)
        for label, when in expired_at.items():
            await store.save_code(
                AuthorizationCode(
                    digest=f"code-{label}",
                    consent_id=consent,
                    client_id=client.client_id,
                    user_id="usr_1",
                    redirect_uri="https://app.example.com/cb",
                    scope=("profile:read",),
                    code_challenge="c" * 43,
                    code_challenge_method="S256",
                    expires_at=when,
                ),
                NOW - timedelta(days=30),
            )
        s.add(
            t.BrowserSession(
                digest="session-old",
                user_id="usr_1",
                created_at=NOW,
                expires_at=NOW - timedelta(minutes=1),
            )
        )
        s.add(
            t.BrowserSession(
                digest="session-live",
                user_id="usr_1",
                created_at=NOW,
                expires_at=NOW + timedelta(days=1),
            )
        )
    return consent


async def _digests(db: Database, column) -> list[str]:
    async with db.unit_of_work() as s:
        return sorted((await s.execute(select(column))).scalars())


async def test_trimming_deletes_rows_expired_longer_than_the_grace_period_in_batches(
    database_url,
):
    db = Database(database_url)
    try:
        await _seed(db)
        async with db.unit_of_work() as s:
            client_id = (await s.execute(select(t.Client.id))).scalar_one()
            reveal = {"user_id": "usr_1", "client_id": client_id, "kind": reveals.Kind.CREATED}
            live_reveal = await reveals.keep(s, **reveal, secret="the live secret", now=NOW)
            await reveals.keep(s, **reveal, secret="never read", now=NOW - timedelta(minutes=20))
        deleted = await trim_expired(db, now=NOW, policy=POLICY)
        assert deleted == {
            "tokens": 5,
            "authorization_codes": 1,
            "pending_authorizations": 0,
            "browser_sessions": 1,
            "refresh_retries": 0,
            "secret_reveals": 1,
        }
        assert await _digests(db, t.Token.digest) == sorted(
            [f"just-expired-{i}" for i in range(5)] + [f"live-{i}" for i in range(5)]
        )
        assert await _digests(db, t.AuthorizationCode.digest) == ["code-just-expired", "code-live"]
        assert await _digests(db, t.BrowserSession.digest) == ["session-live"]
        async with (
            db.unit_of_work() as s
        ):  # the reveal made at NOW is read back; the old one is gone
            assert await reveals.take(
                s, user_id="usr_1", client_id=client_id, key=live_reveal, now=NOW
            ) == reveals.Revealed(reveals.Kind.CREATED, "the live secret")
            assert (await s.execute(select(func.count()).select_from(t.SecretReveal))).scalar() == 0
    finally:
        await db.dispose()


async def test_a_trimming_round_stops_after_its_batch_budget(database_url):
    db = Database(database_url)
    try:
        await _seed(db)
        budget = TrimPolicy(batch=2, max_batches=1, grace=timedelta(days=1))
        deleted = await trim_expired(db, now=NOW, policy=budget)
        assert deleted["tokens"] == 2
        again = await trim_expired(db, now=NOW, policy=POLICY)
        assert again["tokens"] == 3
    finally:
        await db.dispose()


async def test_trimming_twice_deletes_nothing_more(database_url):
    db = Database(database_url)
    try:
        await _seed(db)
        await trim_expired(db, now=NOW, policy=POLICY)
        assert await trim_expired(db, now=NOW, policy=POLICY) == {
            "tokens": 0,
            "authorization_codes": 0,
            "pending_authorizations": 0,
            "browser_sessions": 0,
            "refresh_retries": 0,
            "secret_reveals": 0,
        }
    finally:
        await db.dispose()


async def test_a_round_runs_each_sweep_after_trimming_and_one_failing_stops_no_other(
    database_url, caplog
):
    db = Database(database_url)
    ran: list[str] = []

    async def broken() -> dict[str, int]:
        ran.append("broken")
        raise OSError("the blob directory is gone")

    async def blobs() -> dict[str, int]:
        ran.append("blobs")
        return {"blobs": 3}

    try:
        await _seed(db)
        with caplog.at_level(logging.INFO, logger="piksend.maintenance"):
            await run_round(db, clock=lambda: NOW, policy=POLICY, sweeps=[broken, blobs])
        assert ran == ["broken", "blobs"]
        assert await _digests(db, t.BrowserSession.digest) == ["session-live"]  # trimmed
        assert [r.getMessage() for r in caplog.records] == [
            "maintenance removed: {'tokens': 5, 'authorization_codes': 1, "
            "'pending_authorizations': 0, 'browser_sessions': 1, 'refresh_retries': 0, 'secret_reveals': 0}",
            "a maintenance round failed; will try again",
            "maintenance removed: {'blobs': 3}",
        ]
    finally:
        await db.dispose()
