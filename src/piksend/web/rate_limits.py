"""Rate limits: 429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3), and the
``RateLimit-Policy`` and ``RateLimit`` fields of draft-ietf-httpapi-ratelimit-headers-10 (§3, §4).

Every limit is a fixed window aligned to the clock (a window of w seconds is [k·w, (k+1)·w))
whose number is part of its counter key, so the time left in it — ``Retry-After`` and the
``t`` parameter — comes from the clock alone, with nothing read. The counts are
``storage/counters.py``'s, shared by every node; nothing is kept in process memory.

Failed client authentication (RFC 6749 §2.3.1, §5.2; RFC 9700 §4.17 brute force) is counted
per ``client_id`` and per client address, only when it fails: a request that authenticates
makes no counter round trip. A failure past either limit is answered 429 instead of 401.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from piksend.errors import TooManyRequests
from piksend.gallery.upload_quota import UploadQuota
from piksend.oauth.client_auth import parse_basic
from piksend.oauth.errors import OAuthError
from piksend.settings import Settings
from piksend.storage.counters import Counters
from piksend.web.client_address import client_network
from piksend.web.context import ctx
from piksend.web.security import NO_STORE

TOO_MANY_FAILURES = "Too many failed client authentications; retry after {seconds} seconds"
TOO_MANY_REQUESTS = "Too many requests; retry after {seconds} seconds"


@dataclass(frozen=True)
class Limit:
    """At most ``quota`` hits per window of ``window`` seconds; ``name`` names the policy in
    the headers (draft-ietf-httpapi-ratelimit-headers-10 §3.1)."""

    name: str
    quota: int
    window: int


@dataclass(frozen=True)
class Count:
    limit: Limit
    count: int
    reset: int  # seconds left in the window

    @property
    def over(self) -> bool:
        return self.count > self.limit.quota

    @property
    def remaining(self) -> int:
        return max(0, self.limit.quota - self.count)


def seconds_left(window: int, now: datetime) -> int:
    """Whole seconds until the aligned window holding ``now`` ends (at least 1)."""
    return max(1, math.ceil(window - now.timestamp() % window))


async def hit(counters: Counters, limit: Limit, subject: str, now: datetime) -> Count:
    """Count one hit on ``subject`` under ``limit`` (one atomic counter statement)."""
    number = int(now.timestamp() // limit.window)
    key = f"limit:{limit.name}:{number}:{subject}"
    count = await counters.hit(key, window=limit.window, now=now)
    return Count(limit=limit, count=count, reset=seconds_left(limit.window, now))


def policy_header(limits: Sequence[Limit]) -> str:
    """RateLimit-Policy (§3): a list of named policies with their quota and window."""
    return ", ".join(f'"{lim.name}";q={lim.quota};w={lim.window}' for lim in limits)


def ratelimit_header(counts: Sequence[Count]) -> str:
    """RateLimit (§4): each policy's remaining quota and seconds to its reset."""
    return ", ".join(f'"{c.limit.name}";r={c.remaining};t={c.reset}' for c in counts)


def headers_for(counts: Sequence[Count]) -> dict[str, str]:
    headers = {
        "ratelimit-policy": policy_header([c.limit for c in counts]),
        "ratelimit": ratelimit_header(counts),
    }
    over = [c.reset for c in counts if c.over]
    if over:
        headers["retry-after"] = str(max(over))  # RFC 6585 §4, RFC 9110 §10.2.3
    return headers


class RateLimitedError(TooManyRequests):
    """429 with ``Retry-After`` and the RateLimit fields; web/errors.py adds ``headers``."""

    def __init__(self, description: str, *, headers: Mapping[str, str]) -> None:
        super().__init__(description)
        self.headers = dict(headers)


def counters_of(request: Request) -> Counters:
    return ctx(request).throttle.counters


# Client authentication failures at the token, introspection and revocation endpoints.


def client_auth_limits(settings: Settings) -> tuple[Limit, Limit]:
    window = settings.client_auth_window
    return (
        Limit("client-auth-per-client", settings.client_auth_failures_per_client, window),
        Limit("client-auth-per-address", settings.client_auth_failures_per_address, window),
    )


def _claimed_client_id(request: Request, params: Mapping[str, str]) -> str | None:
    """The client_id a failed request named, from HTTP Basic or the body (RFC 6749 §2.3.1)."""
    try:
        basic = parse_basic(request.headers.get("authorization"))
    except OAuthError:
        basic = None
    client_id = basic[0] if basic is not None else params.get("client_id")
    return client_id[:200] if client_id else None


async def client_auth_failed(
    request: Request, params: Mapping[str, str], error: OAuthError
) -> JSONResponse | None:
    """Count a failed client authentication; the 429 to send instead of ``error`` once the
    client_id or the address is past its limit, else None (send ``error``)."""
    c = ctx(request)
    now = c.now()
    per_client, per_address = client_auth_limits(c.settings)
    counts = [await hit(counters_of(request), per_address, client_network(request), now)]
    client_id = _claimed_client_id(request, params)
    if client_id is not None:
        counts.append(await hit(counters_of(request), per_client, client_id, now))
    over = [count for count in counts if count.over]
    if not over:
        return None
    seconds = max(count.reset for count in over)
    body = {
        "error": TooManyRequests.code,
        "error_description": TOO_MANY_FAILURES.format(seconds=seconds),
    }
    headers = {**NO_STORE, **headers_for(counts)}
    return JSONResponse(body, status_code=429, headers=headers)


# API requests per access token and per app.


def api_limits(settings: Settings) -> tuple[Limit, ...]:
    window = settings.api_window
    limits = (
        Limit("api-per-token", settings.api_requests_per_token, window),
        Limit("api-per-app", settings.api_requests_per_app, window),
    )
    return tuple(limit for limit in limits if limit.quota > 0)


async def _hand_back(session: AsyncSession | None) -> None:
    """A counter takes a connection of its own: the request's session (which has only read
    so far) hands its connection back first, so no request ever holds one while it waits
    for another and a burst cannot starve the pool."""
    if session is not None:
        await session.commit()


async def count_api_request(
    request: Request,
    *,
    token_digest: str,
    client_id: str,
    session: AsyncSession | None = None,
) -> dict[str, str]:
    """Count an API request per token and per app: the RateLimit fields to send, or
    RateLimitedError (429) past either limit."""
    c = ctx(request)
    now = c.now()
    if not api_limits(c.settings):
        return {}
    await _hand_back(session)
    subjects = {"api-per-token": token_digest, "api-per-app": client_id}
    counts = [
        await hit(counters_of(request), limit, subjects[limit.name], now)
        for limit in api_limits(c.settings)
    ]
    headers = headers_for(counts)
    if any(count.over for count in counts):
        seconds = max(count.reset for count in counts if count.over)
        raise RateLimitedError(TOO_MANY_REQUESTS.format(seconds=seconds), headers=headers)
    return headers


async def limit_per_minute(
    request: Request,
    *,
    name: str,
    quota: int,
    subject: str,
    session: AsyncSession | None = None,
) -> None:
    """RateLimitedError (429) once ``subject`` passes ``quota`` hits in this minute."""
    await _hand_back(session)
    limit = Limit(name, quota, 60)
    count = await hit(counters_of(request), limit, subject, ctx(request).now())
    if count.over:
        raise RateLimitedError(
            TOO_MANY_REQUESTS.format(seconds=count.reset), headers=headers_for([count])
        )


def upload_quota(settings: Settings) -> UploadQuota:
    """A user's upload limits (gallery/upload_quota.py) from the settings."""
    return UploadQuota(
        per_hour=settings.uploads_per_hour,
        bytes_per_hour=settings.upload_bytes_per_hour,
        storage_bytes=settings.storage_quota_bytes,
    )
