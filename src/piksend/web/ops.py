"""Operations: /healthz, /readyz, Prometheus /metrics (behind ``PIKSEND_METRICS_TOKEN``), and the
per-request metrics middleware.

Metrics are labelled by route template (``/api/v1/galleries/{gallery_id}``), never the raw
path, so a client cannot grow the label set. With ``serve --workers N`` the workers write to
prometheus-client's multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``, set by ``serve``
under the data dir) and /metrics sums them; with one worker the registry is in memory.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piksend.oauth.errors import InvalidGrantError, OAuthError
from piksend.oauth.grants.authorization_code import CODE_REUSED
from piksend.oauth.grants.refresh_token import REFRESH_REUSED
from piksend.oauth.refresh_grace import ReplayedResponse
from piksend.oauth.types import TokenResponse
from piksend.storage import health
from piksend.web.render import RETRY_AFTER_SECONDS

log = logging.getLogger("piksend.ops")
router = APIRouter(include_in_schema=False)
UNMATCHED = "<unmatched>"
PROBE_TIMEOUT = 2.0  # seconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    tokens_issued: Counter
    tokens_refreshed: Counter
    tokens_revoked: Counter
    refresh_reuse: Counter
    refresh_grace: Counter
    code_replay: Counter

    @property
    def multiprocess_dir(self) -> str | None:
        return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None

    def exposition(self) -> bytes:
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def token_request_done(self, grant_type: str | None, response: TokenResponse) -> None:
        if grant_type == "authorization_code":
            self.tokens_issued.inc()
        elif isinstance(response, ReplayedResponse):
            self.refresh_grace.inc()  # a retry given its successor again: no new rotation
        elif grant_type == "refresh_token":
            self.tokens_refreshed.inc()

    def token_request_failed(self, error: OAuthError) -> None:
        if isinstance(error, InvalidGrantError):
            if error.description == REFRESH_REUSED:
                self.refresh_reuse.inc()
            elif error.description == CODE_REUSED:
                self.code_replay.inc()


def build_metrics() -> Metrics:
    """One registry per app (create_app may run many times in one process, as in tests)."""
    r = CollectorRegistry(auto_describe=True)
    return Metrics(
        registry=r,
        requests=Counter(
            "piksend_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=r,
        ),
        latency=Histogram(
            "piksend_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        ),
        tokens_issued=Counter(
            "piksend_tokens_issued", "Token pairs issued for an authorization code", registry=r
        ),
        tokens_refreshed=Counter(
            "piksend_tokens_refreshed", "Refresh tokens rotated into a new token pair", registry=r
        ),
        tokens_revoked=Counter(
            "piksend_token_revocations", "Accepted RFC 7009 revocation requests", registry=r
        ),
        refresh_reuse=Counter(
            "piksend_refresh_token_reuse_detections",
            "Rotated refresh tokens presented again (their authorization was revoked)",
            registry=r,
        ),
        refresh_grace=Counter(
            "piksend_refresh_token_grace_retries",
            "Rotated refresh tokens retried within the grace window, given the same successor",
            registry=r,
        ),
        code_replay=Counter(
            "piksend_authorization_code_replays",
            "Used authorization codes presented again (their tokens were revoked)",
            registry=r,
        ),
    )


def metrics_of(request: Request) -> Metrics:
    return request.app.state.metrics


class MetricsMiddleware:
    """Count and time every HTTP request under its route template (pure ASGI, no buffering)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """Liveness: the process is up and serving; checks nothing else."""
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


@dataclass(frozen=True)
class Verdict:
    database: str
    storage: str

    @property
    def ready(self) -> bool:
        return self.database == health.OK and self.storage == health.OK

    def body(self) -> dict[str, str]:
        status = "ready" if self.ready else "unavailable"
        return {"status": status, "database": self.database, "storage": self.storage}


class Readiness:
    """The truth about this node, cheaply: the database answers and accepts a write, the data
    dir, the SQLite file's dir and the blob store have room and take a file. One probe at a
    time; its verdict is kept ``ttl`` seconds, so health checks hammering /readyz cost
    nothing, and a probe that hangs is cut at ``PROBE_TIMEOUT`` (an unreachable database)."""

    def __init__(self, db, directories: tuple[Path, ...], *, ttl: float, min_free: int) -> None:
        self.db = db
        self.directories = directories
        self.ttl = ttl
        self.min_free = min_free
        self._lock = asyncio.Lock()
        self._verdict: Verdict | None = None
        self._at = float("-inf")

    async def verdict(self) -> Verdict:
        async with self._lock:
            if self._verdict is None or time.monotonic() - self._at >= self.ttl:
                self._verdict = await self._probe()
                self._at = time.monotonic()
            return self._verdict

    async def _probe(self) -> Verdict:
        try:
            database, why_db = await asyncio.wait_for(health.database_state(self.db), PROBE_TIMEOUT)
        except TimeoutError:
            database, why_db = health.UNREACHABLE, f"no answer within {PROBE_TIMEOUT}s"
        storage, why_disk = await health.directories_state(
            self.directories, min_free_bytes=self.min_free
        )
        for what, state, why in (("database", database, why_db), ("storage", storage, why_disk)):
            if state != health.OK:
                log.warning("readiness check failed: %s %s (%s)", what, state, why)
        return Verdict(database, storage)


def readiness_of(request: Request) -> Readiness:
    state = request.app.state
    found = getattr(state, "readiness", None)
    if found is None:
        c = state.ctx
        directories = [c.settings.data_dir]
        if isinstance(root := getattr(c.blobs, "root", None), Path):  # a local store
            directories.append(root)
        if (sqlite_dir := health.sqlite_directory(c.db)) is not None:
            directories.append(sqlite_dir)
        found = state.readiness = Readiness(
            c.db,
            tuple(directories),
            ttl=c.settings.readiness_cache_seconds,
            min_free=c.settings.readiness_min_free_bytes,
        )
    return found


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when this node can serve writes, else 503 (RFC 9110 §15.6.4), so a
    load balancer stops routing here until it can."""
    verdict = await readiness_of(request).verdict()
    headers = {"cache-control": "no-store"}
    if not verdict.ready:
        headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return JSONResponse(verdict.body(), status_code=200 if verdict.ready else 503, headers=headers)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus exposition for the operator only: ``Authorization: Bearer`` with
    ``PIKSEND_METRICS_TOKEN`` (RFC 6750 §2.1), compared in constant time. With no token set the
    public port has no /metrics at all (404); a missing or wrong token is 401 (RFC 6750 §3)."""
    expected = request.app.state.ctx.settings.metrics_token
    if not expected:
        raise HTTPException(404)  # answered like any unknown path
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        return JSONResponse(
            {"error": "invalid_token", "error_description": "The metrics token is required"},
            401,
            headers={"www-authenticate": 'Bearer realm="metrics"', "cache-control": "no-store"},
        )
    return Response(
        metrics_of(request).exposition(),
        media_type=CONTENT_TYPE_LATEST,
        headers={"cache-control": "no-store"},
    )
