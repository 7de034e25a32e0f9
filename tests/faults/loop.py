"""A bounded request loop against a live server, with real tokens, that counts what it saw.

Each worker repeats one request kind: a refresh (it owns one token family and rotates it, so
a rotation committed but never answered would show as a lost family), an introspection and
``GET /api/v1/me`` with an access token that is never refreshed. Every 503 must be
well-formed; every other 5xx, timeout or reset is counted against the server.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.live import LiveServer

UNAVAILABLE_JSON = {
    "error": "temporarily_unavailable",
    "error_description": "PikSend is temporarily unavailable; retry in a few seconds",
}
REDIRECT_URI = "https://app.example.com/callback"
SCOPES = "profile:read galleries:read galleries:write images:read images:write"
PAUSE = 0.02  # seconds between one worker's requests: the machine is shared
REQUEST_TIMEOUT = 15.0


@dataclass
class Families:
    app: RegisteredApp
    refresh_tokens: list[str]
    access_token: str


async def mint(server: LiveServer, *, families: int) -> Families:
    """Real tokens, got the way an app gets them: an account and an app made with the CLI,
    then sign-in, consent and code exchange over HTTP, once per family."""
    email, password = "faults@example.com", "correct horse battery"
    server.cli("users", "create", "--email", email, "--password", password, "--name", "Faults")
    created = server.cli(
        "apps", "create", "--owner", email, "--name", "Fault App",
        "--redirect-uri", REDIRECT_URI, "--scopes", SCOPES,
    )  # fmt: skip
    app = RegisteredApp(created["client_id"], created["client_secret"], REDIRECT_URI, SCOPES)
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT) as http:
        driver = OAuthDriver(http, app=None)
        signed_in = await driver.sign_in(email, password)
        assert signed_in.status_code == 303, signed_in.text
        pairs = [await driver.tokens(app) for _ in range(families + 1)]
    return Families(app, [p["refresh_token"] for p in pairs[1:]], pairs[0]["access_token"])


def unavailable_problem(response: httpx.Response) -> str | None:
    """Why a 503 is not the well-formed temporarily_unavailable answer, or None."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:120]!r}"
    if body != UNAVAILABLE_JSON:
        return f"body {body!r}"
    if response.headers.get("retry-after") != "2":
        return f"retry-after {response.headers.get('retry-after')!r}"
    if response.headers.get("cache-control") != "no-store":
        return f"cache-control {response.headers.get('cache-control')!r}"
    return None


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    last_success: dict[str, float] = field(default_factory=dict)
    first_success_after: dict[str, float] = field(default_factory=dict)
    back_at: float | None = None  # when the fault ended (the database is back)
    lost: set[str] = field(default_factory=set)

    def record(self, kind: str, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            self.counts["2xx"] += 1
            now = time.monotonic()
            self.last_success[kind] = now
            if self.back_at is not None and kind not in self.first_success_after:
                self.first_success_after[kind] = now
        elif status == 503:
            self.counts["503"] += 1
            if (problem := unavailable_problem(response)) is not None:
                self.problems.append(f"{kind}: malformed 503: {problem}")
        elif status >= 500:
            self.counts["other 5xx"] += 1
            self.problems.append(f"{kind}: {status} {response.text[:200]!r}")
        else:
            self.counts["4xx"] += 1
            self.problems.append(f"{kind}: {status} {response.text[:200]!r}")

    def failed(self, kind: str, exc: Exception) -> None:
        self.counts["no answer"] += 1
        self.problems.append(f"{kind}: {type(exc).__name__}")

    def recovered(self, kinds: set[str]) -> bool:
        return kinds <= set(self.first_success_after)

    def recovery_seconds(self) -> float | None:
        if self.back_at is None or not self.first_success_after:
            return None
        return round(max(self.first_success_after.values()) - self.back_at, 2)

    def summary(self, scenario: str) -> str:
        return (
            f"{scenario}: 2xx={self.counts['2xx']} 503={self.counts['503']} "
            f"other 5xx={self.counts['other 5xx']} 4xx={self.counts['4xx']} "
            f"no answer={self.counts['no answer']} lost tokens={len(self.lost)} "
            f"recovery={self.recovery_seconds()}s"
        )


class RequestLoop:
    def __init__(self, server: LiveServer, families: Families) -> None:
        self.server = server
        self.families = families
        self.tally = Tally()
        self.tokens = list(families.refresh_tokens)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.http = httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT)

    @property
    def kinds(self) -> set[str]:
        return {f"refresh-{i}" for i in range(len(self.tokens))} | {"introspect", "me"}

    async def __aenter__(self) -> RequestLoop:
        for i in range(len(self.tokens)):
            self._tasks.append(asyncio.create_task(self._worker(f"refresh-{i}", self._refresh, i)))
        self._tasks.append(asyncio.create_task(self._worker("introspect", self._introspect)))
        self._tasks.append(asyncio.create_task(self._worker("me", self._me)))
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self.http.aclose()

    async def _worker(self, kind: str, send, *args) -> None:
        while not self._stop.is_set() and kind not in self.tally.lost:
            try:
                response = await send(*args)
            except httpx.HTTPError as exc:
                self.tally.failed(kind, exc)
            else:
                self.tally.record(kind, response)
            await asyncio.sleep(PAUSE)

    async def _refresh(self, i: int) -> httpx.Response:
        app = self.families.app
        response = await self.http.post(
            "/api/oauth/token",
            json={
                "grant_type": "refresh_token",
                "refresh_token": self.tokens[i],
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        )
        if response.status_code == 200:
            self.tokens[i] = response.json()["refresh_token"]
        elif response.status_code == 400:
            self.tally.lost.add(f"refresh-{i}")  # the family's token no longer works
        return response

    async def _introspect(self) -> httpx.Response:
        app = self.families.app
        response = await self.http.post(
            "/api/oauth/introspect",
            auth=(app.client_id, app.client_secret),
            data={"token": self.families.access_token},
        )
        if response.status_code == 200 and response.json().get("active") is not True:
            self.tally.lost.add("introspect")
        return response

    async def _me(self) -> httpx.Response:
        response = await self.http.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {self.families.access_token}"}
        )
        if response.status_code == 401:
            self.tally.lost.add("me")
        return response

    async def run_until_recovered(self, timeout: float) -> bool:
        """After ``fault_ended``: wait (bounded) until every kind succeeded again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.tally.recovered(self.kinds):
            if self.tally.lost:
                return False
            await asyncio.sleep(0.05)
        return self.tally.recovered(self.kinds)

    def fault_ended(self) -> None:
        self.tally.back_at = time.monotonic()


async def readyz(server: LiveServer) -> tuple[int, dict]:
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT) as http:
        response = await http.get("/readyz")
    return response.status_code, response.json()


async def readyz_becomes(server: LiveServer, status: int, timeout: float) -> tuple[int, dict]:
    """Poll /readyz (its verdict is cached about a second) until it answers ``status``."""
    deadline = time.monotonic() + timeout
    answer = await readyz(server)
    while answer[0] != status and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        answer = await readyz(server)
    return answer
