"""MCP clients for tests: ``McpHttp`` speaks JSON-RPC to /mcp over any httpx client (the ASGI
app in-process); the live helpers below drive the official SDK's client against ``piksend serve``."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import httpx2
import pytest
import requests
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

from tests.support import db as testdb
from tests.support.live import LiveServer, free_port, live_server
from tests.support.public_client import CSRF, NEXT, OFFERED, PASSWORD, PENDING

PROTOCOL_VERSION = "2025-11-25"
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": PROTOCOL_VERSION,
}


class McpHttp:
    """JSON-RPC requests to /mcp with one bearer token (or none)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token
        self.ids = itertools.count(1)

    async def post(self, message: Any, **headers: str) -> httpx.Response:
        sent = dict(HEADERS)
        if self.token is not None:
            sent["authorization"] = f"Bearer {self.token}"
        sent.update(headers)
        return await self.http.post("/mcp", json=message, headers=sent)

    async def request(self, method: str, params: dict | None = None) -> httpx.Response:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self.ids), "method": method}
        if params is not None:
            message["params"] = params
        return await self.post(message)

    async def result(self, method: str, params: dict | None = None) -> dict:
        response = await self.request(method, params)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert "result" in answer, answer
        return answer["result"]

    async def call(self, tool: str, **arguments: Any) -> dict:
        """``tools/call``'s result: ``structuredContent``, ``content`` and ``isError``."""
        return await self.result("tools/call", {"name": tool, "arguments": arguments})

    async def structured(self, tool: str, **arguments: Any) -> dict:
        """A tool call that must succeed: its structured content."""
        result = await self.call(tool, **arguments)
        assert result.get("isError") is not True, result
        return result["structuredContent"]


# --- The official SDK's client against a live ``piksend serve`` --------------------------------

ELIDED = "…"
# Values never written to a transcript: credentials, codes and what would let one be replayed.
SECRET_FIELDS = {
    "access_token",
    "refresh_token",
    "code",
    "code_verifier",
    "code_challenge",
    "client_secret",
    "registration_access_token",
    "state",
}


def elide(value: Any) -> Any:
    """``value`` with every credential replaced by ``…`` (JSON objects, lists, form dicts)."""
    if isinstance(value, dict):
        return {k: ELIDED if k in SECRET_FIELDS else elide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [elide(v) for v in value]
    return value


def elide_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, ELIDED if k in SECRET_FIELDS else elide_url(v) if k == "next" else v)
        for k, v in parse_qsl(parts.query)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe=":/?=&")))


def _body(content: bytes, content_type: str) -> Any:
    if not content:
        return None
    if "json" in content_type:
        return elide(json.loads(content))
    if "x-www-form-urlencoded" in content_type:
        return elide(dict(parse_qsl(content.decode())))
    return f"<{len(content)} bytes of {content_type or 'unknown type'}>"


@dataclass
class Exchange:
    """One HTTP request of the session and its answer, with every credential elided."""

    actor: str  # "sdk" (the MCP SDK's client) or "browser" (the stand-in user)
    method: str
    url: str
    status: int
    request: Any = None
    answer: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    sent_authorization: str | None = None  # the scheme of the request's credentials

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def summary(self) -> tuple[str, str, str, int]:
        return (self.actor, self.method, self.path, self.status)

    def render(self) -> str:
        lines = [f"[{self.actor}] {self.method} {elide_url(self.url)}"]
        if self.sent_authorization is not None:
            lines.append(f"    > authorization: {self.sent_authorization} {ELIDED}")
        if self.request is not None:
            lines.append(f"    > {json.dumps(self.request, ensure_ascii=False)}")
        lines.append(f"    < {self.status}")
        for name, value in self.headers.items():
            lines.append(f"    < {name}: {value}")
        if self.answer is not None:
            lines.append(f"    < {json.dumps(self.answer, ensure_ascii=False)}")
        return "\n".join(lines)


ANSWER_HEADERS = ("www-authenticate", "location", "content-type")


class Transcript:
    """Every request the SDK's client sends (httpx2 event hooks see the OAuth provider's own
    discovery, registration and token requests too) and the stand-in browser's steps."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    async def on_response(self, response: httpx2.Response) -> None:
        await response.aread()
        request = response.request
        headers = {k: v for k, v in response.headers.items() if k in ANSWER_HEADERS}
        sent = request.headers.get("authorization")
        self.exchanges.append(
            Exchange(
                actor="sdk",
                method=request.method,
                url=str(request.url),
                status=response.status_code,
                request=_body(request.content, request.headers.get("content-type", "")),
                answer=_body(response.content, response.headers.get("content-type", "")),
                headers=headers,
                sent_authorization=sent.split(" ", 1)[0] if sent else None,
            )
        )

    def browser(self, response: requests.Response) -> None:
        for hop in [*response.history, response]:
            headers = {k: v for k, v in hop.headers.items() if k.lower() in ("location",)}
            self.exchanges.append(
                Exchange(
                    actor="browser",
                    method=hop.request.method or "GET",
                    url=hop.request.url or "",
                    status=hop.status_code,
                    headers={k.lower(): elide_url(v) for k, v in headers.items()},
                )
            )

    def summary(self) -> list[tuple[str, str, str, int]]:
        return [e.summary() for e in self.exchanges]

    def render(self) -> str:
        return "\n".join(e.render() for e in self.exchanges)

    def mcp_methods(self) -> list[tuple[str | None, int]]:
        """The JSON-RPC method of each POST /mcp and its HTTP status."""
        return [
            (e.request.get("method") if isinstance(e.request, dict) else None, e.status)
            for e in self.exchanges
            if e.actor == "sdk" and e.path == "/mcp"
        ]


class MemoryTokenStorage:
    """The SDK's ``TokenStorage`` in memory: the client's registration and its tokens."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class StandInBrowser:
    """The provider's redirect and callback handlers: the user's browser follows the
    authorization URL, signs in and approves on the real pages, and the app reads the code,
    state and iss from the loopback redirect it is sent to."""

    def __init__(
        self, *, email: str, transcript: Transcript, scopes: list[str] | None = None
    ) -> None:
        self.email = email
        self.transcript = transcript
        self.scopes = scopes  # the scopes the user leaves ticked; None: all that are offered
        self.session = requests.Session()
        self.redirects: list[str] = []
        self.pages: list[str] = []  # the consent pages the user saw

    async def redirect_handler(self, authorization_url: str) -> None:
        location = await asyncio.to_thread(self._approve, authorization_url)
        self.redirects.append(location)

    def _approve(self, authorization_url: str) -> str:
        """As ``public_client.sign_in_and_approve``, each page recorded in the transcript."""
        record = self.transcript.browser
        page = self.session.get(authorization_url, timeout=10)
        record(page)
        if urlsplit(page.url).path == "/login":
            page = self.session.post(
                urljoin(page.url, "/login"),
                data={
                    "csrf_token": CSRF.search(page.text).group(1),
                    "email": self.email,
                    "password": PASSWORD,
                    "next": NEXT.search(page.text).group(1).replace("&amp;", "&"),
                },
                timeout=10,
            )
            record(page)
        assert page.status_code == 200, page.text[:500]
        self.pages.append(page.text)
        offered = OFFERED.findall(page.text)
        data = [
            ("csrf_token", CSRF.search(page.text).group(1)),
            ("pending_id", PENDING.search(page.text).group(1)),
            ("decision", "approve"),
        ]
        data += [("scope", s) for s in (offered if self.scopes is None else self.scopes)]
        decided = self.session.post(
            urljoin(page.url, "/api/oauth/consent"), data=data, allow_redirects=False, timeout=10
        )
        record(decided)
        assert decided.status_code == 303, decided.text[:500]
        return decided.headers["location"]

    async def callback_handler(self) -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(self.redirects[-1]).query)
        assert "code" in query, self.redirects[-1]
        return AuthorizationCodeResult(
            code=query["code"][0], state=query["state"][0], iss=query.get("iss", [None])[0]
        )


def client_metadata(*, redirect_uri: str, auth_method: str, name: str) -> OAuthClientMetadata:
    return OAuthClientMetadata(
        client_name=name,
        redirect_uris=[AnyUrl(redirect_uri)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method=auth_method,  # type: ignore[arg-type]
    )


@dataclass
class SdkClient:
    """The SDK's ``OAuthClientProvider`` with its storage, browser and transcript."""

    provider: OAuthClientProvider
    storage: MemoryTokenStorage
    browser: StandInBrowser
    transcript: Transcript

    def expire_access_token(self) -> None:
        """Make the held access token expired, so the provider refreshes before its next
        request (as it would an hour later)."""
        self.provider.context.token_expiry_time = time.time() - 1

    @asynccontextmanager
    async def session(self, mcp_url: str) -> AsyncIterator[ClientSession]:
        """An initialized MCP session over the SDK's Streamable HTTP client."""
        async with (
            httpx2.AsyncClient(
                auth=self.provider,
                timeout=30,
                event_hooks={"response": [self.transcript.on_response]},
            ) as http,
            streamable_http_client(mcp_url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def sdk_client(
    mcp_url: str,
    *,
    email: str,
    auth_method: str = "none",
    client_metadata_url: str | None = None,
    scopes: list[str] | None = None,
) -> SdkClient:
    transcript = Transcript()
    storage = MemoryTokenStorage()
    browser = StandInBrowser(email=email, transcript=transcript, scopes=scopes)
    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=client_metadata(
            redirect_uri=f"http://127.0.0.1:{free_port()}/callback",
            auth_method=auth_method,
            name="Test Assistant",
        ),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )
    if client_metadata_url is not None:
        # The SDK accepts only an https client ID URL; the test's document is served from a
        # loopback origin over http, which the server fetches because private targets are
        # allowed in tests (PIKSEND_WEBHOOKS_ALLOW_PRIVATE=1).
        provider.context.client_metadata_url = client_metadata_url
    return SdkClient(provider, storage, browser, transcript)


@contextmanager
def live_mcp_server(backend: str, data_dir: Path, **env: str) -> Iterator[LiveServer]:
    """``piksend serve`` on a fresh SQLite file or a brand-new PostgreSQL database (skipped with
    the reason when PIKSEND_TEST_POSTGRES_URL is not set), with ``env`` added."""
    if backend == "postgresql":
        base = testdb.pg_url()
        if base is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.create_pg_database(base)
    else:
        url = f"sqlite:///{data_dir}/piksend.db"
    try:
        with live_server(data_dir, url, **env) as server:
            yield server
    finally:
        if backend == "postgresql":
            testdb.drop_pg_database(url)
