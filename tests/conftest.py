from __future__ import annotations

import httpx
import pytest

from piksend.app import create_app
from piksend.settings import Settings
from tests.support import db as testdb
from tests.support.clock import FakeClock
from tests.support.driver import OAuthDriver

ISSUER = "http://127.0.0.1:8000"
METRICS_TOKEN = "test-metrics-token"
METRICS = {"authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, tmp_path_factory):
    if request.param == "postgresql":
        url = testdb.pg_url()
        if url is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        return testdb.reset_postgres(url)
    return testdb.fresh_sqlite(tmp_path, tmp_path_factory.getbasetemp())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        public_url=ISSUER,
        secret_key="test-secret-key-" + "x" * 32,
        webhooks_allow_private_targets=True,
        metrics_token=METRICS_TOKEN,
    )


@pytest.fixture
async def app(settings, clock):
    application = create_app(settings, clock=clock)
    yield application
    await application.state.ctx.db.dispose()


@pytest.fixture
async def http(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


@pytest.fixture
def driver(http, app) -> OAuthDriver:
    return OAuthDriver(http, app)


@pytest.fixture
async def alice(driver):
    return await driver.sign_up("alice@example.com", "correct horse", "Alice")


@pytest.fixture
async def registered(driver, alice):
    return await driver.register_app(alice.id)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """A test that leaves an event loop marked running in this thread breaks every async test
    after it in the same process ("Runner.run() cannot be called from a running event loop"),
    far from the cause. Name the test that did it, and clear the mark for the next one."""
    import asyncio
    import warnings

    loop = asyncio.events._get_running_loop()
    if loop is not None and not loop.is_running():
        warnings.warn(
            f"{item.nodeid} left an event loop marked running; cleared",
            RuntimeWarning,
            stacklevel=1,
        )
        asyncio.events._set_running_loop(None)
