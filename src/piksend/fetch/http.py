"""The one SSRF-safe HTTP GET for documents that users and apps name by URL.

``fetch_url`` resolves the host once, checks every address (``fetch.ssrf``), then connects to a
checked address itself: the request goes to the IP literal with the original ``Host`` header and
TLS server name (SNI), so a second DNS lookup can never swap in another address (DNS rebinding).
Redirects are not followed; the body is read only up to ``max_bytes``; the whole exchange is
bounded by ``timeout``. Its errors never name an address the host resolved to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from piksend import __version__
from piksend.fetch import ssrf

NOT_ALLOWED = "target not allowed"
USER_AGENT = f"PikSend/{__version__}"


class FetchError(Exception):
    """The document could not be fetched; ``message`` is safe to show and to log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FetchedResponse:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes


async def fetch_url(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool,
    accept: str = "application/json",
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchedResponse:
    """GET ``url`` from a checked address. Raises ``FetchError`` when the target is refused,
    unreachable, too slow, or its body is longer than ``max_bytes``."""
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(url, max_bytes, timeout, allow_private, accept, transport)
    except TimeoutError as exc:
        raise FetchError("timed out") from exc


async def _fetch(
    url: str,
    max_bytes: int,
    timeout: float,
    allow_private: bool,
    accept: str,
    transport: httpx.AsyncBaseTransport | None,
) -> FetchedResponse:
    try:
        addresses = await ssrf.resolve_and_check(url, allow_private=allow_private)
    except ssrf.UnsafeTarget as exc:
        raise FetchError(NOT_ALLOWED) from exc
    parts = urlsplit(url)
    headers = {"host": parts.netloc, "accept": accept, "user-agent": USER_AGENT}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme.lower() == "https" else {}
    async with httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        for address in addresses:
            literal = f"[{address}]" if ":" in address else address
            netloc = f"{literal}:{parts.port}" if parts.port else literal
            target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
            request = client.build_request("GET", target, headers=headers, extensions=extensions)
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectError:
                continue  # the next checked address, if any
            except httpx.HTTPError as exc:
                raise FetchError("could not fetch the document") from exc
            try:
                body = await _read_limited(response, max_bytes)
            finally:
                await response.aclose()
            return FetchedResponse(
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=body,
            )
    raise FetchError("could not connect")


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"document larger than {max_bytes} bytes")
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"document larger than {max_bytes} bytes")
    except httpx.HTTPError as exc:
        raise FetchError("could not fetch the document") from exc
    return bytes(body)
