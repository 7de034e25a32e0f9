"""Migration 0007 (RFC 8707 §2 resources): rows written before it are the API's, read by the
rule of piksend.oauth.resources; going back drops every row bound to another resource."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from piksend.oauth import resources, tokens
from piksend.oauth.bearer import authenticate_bearer
from piksend.oauth.types import TokenKind, TokenRecord
from piksend.storage.engine import Database
from piksend.storage.oauth import SqlOAuthStore
from piksend.storage.schema import downgrade, upgrade
from tests.support import db as testdb

NOW = datetime.now(UTC).replace(microsecond=0)
ISSUER = "https://piksend.example"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "postgresql":
        if testdb.pg_url() is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.create_pg_database(testdb.pg_url())
        yield url
        testdb.drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path}/m.db"


def access(consent_id: str, value: str, resource: str) -> TokenRecord:
    record = TokenRecord(
        digest=tokens.digest(value),
        kind=TokenKind.ACCESS,
        consent_id=consent_id,
        client_id="cli_1",
        user_id="usr_a",
        scope=("profile:read",),
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )
    return replace(record, resource=resource)


async def test_a_token_from_before_resource_indicators_is_the_apis(empty_url):
    upgrade(empty_url)
    db = Database(empty_url)
    await testdb.add_user_and_client(db, NOW)
    async with db.unit_of_work() as session:
        store = SqlOAuthStore(session)
        cid = await store.create_consent(
            user_id="usr_a", client_id="cli_1", scope=("profile:read",), now=NOW
        )
        await store.save_tokens(
            access(cid, "pks_at_api", resources.api_resource(ISSUER)),
            access(cid, "pks_at_mcp", resources.mcp_resource(ISSUER)),
        )
    await db.dispose()

    downgrade(empty_url, "0006")  # the schema before resource indicators
    upgrade(empty_url)

    db = Database(empty_url)
    async with db.reader() as session:
        store = SqlOAuthStore(session)
        assert await store.find_token(tokens.digest("pks_at_mcp")) is None
        old = await store.find_token(tokens.digest("pks_at_api"))
        assert old is not None and old.resource == resources.API_PATH
        found = await authenticate_bearer(
            "Bearer pks_at_api", grants=store, now=NOW, resource=resources.api_resource(ISSUER)
        )
        assert resources.absolute(found.resource, ISSUER) == ISSUER + "/api/v1"
    await db.dispose()
