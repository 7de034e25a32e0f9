"""piksend.fetch.http: one lookup, checked addresses, no redirects, size and time limits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from piksend.fetch.http import FetchError, fetch_url

Handler = Callable[[bytes], bytes | None]


class Origin:
    """A loopback HTTP/1.1 server answering each request with ``handler(request_head)``;
    ``None`` means never answer."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        answer = self.handler(head)
        if answer is None:
            await asyncio.sleep(30)
        else:
            writer.write(answer)
            await writer.drain()
        writer.close()


def _response(status: str, body: bytes, *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", *extra, "connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
async def origin() -> AsyncIterator[Callable[[Handler], Any]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> Origin:
        o = Origin(handler)
        server = await asyncio.start_server(o._serve, "127.0.0.1", 0)
        o.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return o

    yield start
    for server in servers:
        server.close()


async def test_a_document_is_fetched_with_its_status_headers_and_body(origin) -> None:
    o = await origin(lambda head: _response("200 OK", b'{"a": 1}', "cache-control: max-age=60"))

    got = await fetch_url(
        f"http://127.0.0.1:{o.port}/doc.json", max_bytes=100, timeout=5, allow_private=True
    )

    assert (got.status, got.body, got.headers["cache-control"]) == (200, b'{"a": 1}', "max-age=60")


async def test_the_checked_address_is_connected_to_with_the_original_host_and_one_lookup(
    origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    o = await origin(lambda head: _response("200 OK", b"{}"))
    asked: list[str] = []

    async def getaddrinfo(host: str, port: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)

    await fetch_url(
        f"http://apps.example:{o.port}/doc.json", max_bytes=100, timeout=5, allow_private=True
    )

    assert asked == ["apps.example"]
    assert f"host: apps.example:{o.port}" in o.requests[0].decode().lower().splitlines()


async def test_a_loopback_target_is_refused_without_naming_its_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def getaddrinfo(host: str, port: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)

    with pytest.raises(FetchError) as refused:
        await fetch_url("https://rebind.example/doc", max_bytes=100, timeout=5, allow_private=False)

    assert refused.value.message == "target not allowed"


async def test_a_redirect_is_returned_not_followed(origin) -> None:
    o = await origin(lambda head: _response("302 Found", b"", "location: http://127.0.0.1:1/x"))

    got = await fetch_url(
        f"http://127.0.0.1:{o.port}/doc", max_bytes=100, timeout=5, allow_private=True
    )

    assert (got.status, got.headers["location"], len(o.requests)) == (
        302,
        "http://127.0.0.1:1/x",
        1,
    )


async def test_a_body_longer_than_the_limit_is_refused(origin) -> None:
    o = await origin(lambda head: _response("200 OK", b"x" * 101))

    with pytest.raises(FetchError) as refused:
        await fetch_url(
            f"http://127.0.0.1:{o.port}/doc", max_bytes=100, timeout=5, allow_private=True
        )

    assert refused.value.message == "document larger than 100 bytes"


async def test_a_body_without_a_length_is_cut_at_the_limit(origin) -> None:
    o = await origin(lambda head: b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + b"y" * 5000)

    with pytest.raises(FetchError) as refused:
        await fetch_url(
            f"http://127.0.0.1:{o.port}/doc", max_bytes=1000, timeout=5, allow_private=True
        )

    assert refused.value.message == "document larger than 1000 bytes"


async def test_a_server_that_never_answers_times_out(origin) -> None:
    o = await origin(lambda head: None)

    with pytest.raises(FetchError) as refused:
        await fetch_url(
            f"http://127.0.0.1:{o.port}/doc", max_bytes=100, timeout=0.5, allow_private=True
        )

    assert refused.value.message == "timed out"
