"""Client types in storage (issue 12; RFC 6749 §2.1): a public app is stored without a secret and
read back by both executors as public; the schema refuses a confidential app without one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from piksend.clients.registry import create_app, make_confidential, make_public
from piksend.clients.validation import AppFields
from piksend.oauth import tokens
from piksend.oauth.types import ClientType
from piksend.storage import tables as t
from piksend.storage.engine import Database
from piksend.storage.oauth import SqlOAuthStore
from tests.support import db as testdb

NOW = datetime.now(UTC).replace(microsecond=0)
FIELDS = AppFields(
    name="Photo frame",
    redirect_uris=("com.example.frame:/oauth2redirect",),
    scopes=("profile:read",),
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request, tmp_path, tmp_path_factory):
    if request.param == "postgresql":
        if testdb.pg_url() is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.reset_postgres(testdb.pg_url())
    else:
        url = testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp())
    database = Database(url)
    await testdb.add_user_and_client(database, NOW)
    yield database
    await database.dispose()


async def _public_app(db) -> str:
    async with db.unit_of_work() as s:
        app, secret = await create_app(
            s, owner_id="usr_a", fields=FIELDS, now=NOW, client_type=ClientType.PUBLIC
        )
    assert secret is None
    return app.client_id


async def test_a_public_app_is_read_back_as_public_without_a_secret_by_every_executor(db):
    client_id = await _public_app(db)
    async with db.unit_of_work() as s:
        through_session = await SqlOAuthStore(s).get_client(client_id)
    read = [through_session]
    if db.fast is not None:
        async with db.fast.unit(write=False) as fast_store:
            read.append(await fast_store.get_client(client_id))
    assert [(c.client_type, c.secret_digest, c.token_endpoint_auth_method) for c in read] == [
        (ClientType.PUBLIC, None, "none")
    ] * len(read)


async def test_an_existing_app_reads_back_as_confidential(db):
    async with db.unit_of_work() as s:
        client = await SqlOAuthStore(s).get_client("cli_1")
    assert (client.client_type, client.token_endpoint_auth_method) == (
        ClientType.CONFIDENTIAL,
        "client_secret_basic",
    )


async def test_the_schema_refuses_a_confidential_app_without_a_secret(db):
    with pytest.raises(IntegrityError):
        async with db.unit_of_work() as s:
            await s.execute(
                update(t.Client).where(t.Client.id == "cli_1").values(secret_digest=None)
            )


async def test_the_schema_refuses_a_public_app_with_a_secret(db):
    client_id = await _public_app(db)
    with pytest.raises(IntegrityError):
        async with db.unit_of_work() as s:
            await s.execute(
                update(t.Client).where(t.Client.id == client_id).values(secret_digest="d" * 64)
            )


async def test_changing_the_type_there_and_back_keeps_only_the_new_secret(db):
    client_id = await _public_app(db)
    async with db.unit_of_work() as s:
        # a private-use redirect would be refused for a confidential app: use an https one
        app = await s.get(t.Client, client_id)
        app.redirect_uris = ["https://frame.example.com/cb"]
    async with db.unit_of_work() as s:
        secret = await make_confidential(s, owner_id="usr_a", client_id=client_id, now=NOW)
    async with db.unit_of_work() as s:
        row = await s.get(t.Client, client_id)
        assert (row.client_type, row.secret_digest) == ("confidential", tokens.digest(secret))
    async with db.unit_of_work() as s:
        public = await make_public(s, owner_id="usr_a", client_id=client_id, now=NOW)
        row = await s.get(t.Client, client_id)
        assert (public.client_type, row.secret_digest, row.previous_secret_digest) == (
            ClientType.PUBLIC,
            None,
            None,
        )
