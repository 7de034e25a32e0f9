"""The MCP transport's shape: stateless with JSON answers, so a request may reach any worker or
node (nothing of a session lives in process memory), and building it leaves logging alone."""

from __future__ import annotations

import asyncio
import logging

import httpx

from piksend.app import create_app
from piksend.web.mcp import build_mcp
from tests.conftest import ISSUER
from tests.support.mcp_client import McpHttp


async def test_answers_are_json_and_name_no_session(world):
    mcp = await world.everything()

    answer = await mcp.request(
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert "mcp-session-id" not in answer.headers
    assert answer.json()["result"]["serverInfo"] == {
        "name": "piksend",
        "title": "PikSend",
        "version": answer.json()["result"]["serverInfo"]["version"],
    }


async def test_a_second_node_on_the_same_database_serves_the_next_request(world, settings, clock):
    mcp = await world.everything()
    created = await mcp.structured("create_gallery", title="Made on node one")
    other = create_app(settings, clock=clock)
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with other.state.mcp.run():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    try:
        await asyncio.wait_for(started.wait(), timeout=10)
        transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as node_two:
            listed = await McpHttp(node_two, mcp.token).structured("list_galleries")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await other.state.ctx.db.dispose()

    assert listed == {"data": [created], "next_cursor": None}


def test_building_the_server_leaves_the_root_loggers_handlers_as_they_were(app):
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers[:] = []
    try:
        build_mcp(app.state.ctx)
        assert (root.handlers, root.level) == ([], level)
    finally:
        root.handlers[:] = saved
