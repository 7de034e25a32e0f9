"""The webhook delivery worker: sends the outbox written by :mod:`piksend.gallery.webhooks`.

Each delivery is claimed with one conditional UPDATE (a lease): of several processes or nodes
polling the same database, exactly one wins the row, so none sends a delivery concurrently with
another. The lease is short and renewed while the delivery is being sent (issue 10, item 6):
a sender that dies mid-way leaves a lease that expires within ``lease`` seconds, and the
delivery is sent again soon under the same ``X-PikSend-Delivery`` id, which receivers use to
drop duplicates. A sender that cannot renew its lease in time abandons the send before the
lease runs out, so a delivery is never being sent by two workers at once.
Failures are retried with exponential backoff up to a cap and a maximum number of attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from piksend import __version__
from piksend.fetch import ssrf
from piksend.gallery import webhook_signing
from piksend.gallery.webhooks import CANCELLED, FAILED, SUCCEEDED, consent_is_live
from piksend.storage import outbox
from piksend.storage.engine import Database
from piksend.storage.outbox import PollingWorker
from piksend.storage.tables import gallery as g

log = logging.getLogger("piksend.webhooks")

BATCH = 20
CONCURRENCY = 8
TARGET_NOT_ALLOWED = "target not allowed"


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_base: float = 30.0
    backoff_cap: float = 6 * 3600.0
    timeout: float = 10.0
    allow_private: bool = False
    lease: float = 10.0  # seconds; renewed every third of it while sending

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: base·2^(n-1), capped."""
        return outbox.backoff(attempts, base=self.backoff_base, cap=self.backoff_cap)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None


class DeliveryWorker(PollingWorker):
    task_name = "piksend-webhook-worker"
    what = "webhook worker"

    def __init__(
        self,
        db: Database,
        *,
        policy: DeliveryPolicy,
        clock: Callable[[], datetime],
        poll_interval: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(poll_interval=poll_interval, log=log)
        self.db = db
        self.policy = policy
        self.clock = clock
        self._transport = transport

    # -- one pass -------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim and attempt every delivery due now (up to a batch); returns how many."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            due = (
                await session.scalars(
                    select(g.WebhookDelivery.id)
                    .where(_claimable(now))
                    .order_by(g.WebhookDelivery.next_attempt_at, g.WebhookDelivery.id)
                    .limit(BATCH)
                )
            ).all()
        if not due:
            return 0
        limit = asyncio.Semaphore(CONCURRENCY)
        async with self._client() as client:

            async def one(delivery_id: str) -> bool:
                async with limit:
                    return await self._attempt(client, delivery_id)

            results = await asyncio.gather(*(one(d) for d in due))
        return sum(results)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport,
            timeout=self.policy.timeout,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def _claim(self, delivery_id: str, now: datetime):
        """The lease: one conditional UPDATE whose row count says whether this worker won."""
        token = secrets.token_hex(16)
        lease_until = now + timedelta(seconds=self.policy.lease)
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(g.WebhookDelivery)
                .where(g.WebhookDelivery.id == delivery_id, _claimable(now))
                .values(
                    lease_token=token,
                    lease_expires_at=lease_until,
                    attempts=g.WebhookDelivery.attempts + 1,
                    last_attempt_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], result).rowcount != 1:  # an UPDATE's result
                return None
            delivery = await session.get_one(g.WebhookDelivery, delivery_id)
            hook = await session.get(g.Webhook, delivery.webhook_id)
            live = (
                hook is not None
                and hook.active
                and await consent_is_live(session, user_id=hook.user_id, client_id=hook.client_id)
            )
            if hook is not None and hook.active and not live:
                # The user revoked the app: its webhooks stop for good.
                hook.active = False
                hook.disabled_reason = "the user revoked the app's access"
            return token, delivery, hook, live

    async def _attempt(self, client: httpx.AsyncClient, delivery_id: str) -> bool:
        now, asked = self.clock(), time.monotonic()  # the lease runs from here
        claimed = await self._claim(delivery_id, now)
        if claimed is None:
            return False
        token, delivery, hook, live = claimed
        if not live:
            await self._finish(
                delivery_id,
                token,
                Outcome(False, error="webhook disabled"),
                now,
                final_status=CANCELLED,
            )
            return True
        outcome = await self._send_leased(client, hook, delivery, token, asked)
        await self._finish(delivery_id, token, outcome, self.clock(), attempts=delivery.attempts)
        return True

    async def _send_leased(
        self, client: httpx.AsyncClient, hook: g.Webhook, delivery, token: str, claimed: float
    ) -> Outcome:
        """Send while renewing the lease every third of it. ``held_until`` is this worker's
        own, conservative view of the lease (measured from before the statement that set it);
        if no renewal succeeds before the last third of it, the send is cancelled, so it has
        stopped before any other worker can claim the delivery."""
        lease = self.policy.lease
        held_until = claimed + lease
        send = asyncio.ensure_future(self._send(client, hook, delivery))
        try:
            while True:
                done, _ = await asyncio.wait({send}, timeout=lease / 3)
                if done:
                    return send.result()
                asked = time.monotonic()
                try:
                    async with asyncio.timeout(max(held_until - asked - lease / 3, 0.01)):
                        renewed = await self._renew(delivery.id, token)
                except Exception as exc:  # a timeout or a database error
                    log.warning("webhook delivery %s: lease not renewed: %r", delivery.id, exc)
                    renewed = None
                if renewed is False:
                    return Outcome(False, error="the delivery's lease was lost")
                if renewed:
                    held_until = asked + lease
                elif time.monotonic() >= held_until - lease / 3:
                    return Outcome(False, error="the delivery's lease could not be renewed")
        finally:
            if not send.done():
                send.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await send

    async def _renew(self, delivery_id: str, token: str) -> bool:
        """Extend the lease this worker holds; False if it holds it no more."""
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(g.WebhookDelivery)
                .where(g.WebhookDelivery.id == delivery_id, g.WebhookDelivery.lease_token == token)
                .values(lease_expires_at=self.clock() + timedelta(seconds=self.policy.lease))
                .execution_options(synchronize_session=False)
            )
            return cast(CursorResult[Any], result).rowcount == 1

    async def _send(self, client: httpx.AsyncClient, hook: g.Webhook, delivery) -> Outcome:
        try:
            addresses = await ssrf.resolve_and_check(
                hook.url, allow_private=self.policy.allow_private
            )
        except ssrf.UnsafeTarget as exc:
            # Issue 15, item 3: the app reads the delivery log, so it learns only that the
            # target was refused; why (what a host resolves to, or that it does not resolve,
            # a DNS oracle into the operator's network) goes to the server's log alone.
            log.warning("webhook %s: target refused: %s", hook.id, exc.message)
            return Outcome(False, error=TARGET_NOT_ALLOWED)
        body = delivery.payload.encode()
        timestamp = int(self.clock().timestamp())
        headers = {
            "content-type": "application/json",
            "user-agent": f"PikSend-Webhooks/{__version__}",
            "x-piksend-delivery": delivery.id,
            "x-piksend-event": delivery.event,
            "x-piksend-signature": webhook_signing.signature_header(hook.secret, timestamp, body),
        }
        parts = urlsplit(hook.url)
        headers["host"] = parts.netloc
        last_error = "could not connect"
        for address in addresses:
            # Connect to the address that was checked, never to a fresh lookup (DNS rebinding);
            # TLS still verifies the certificate against the real host name (SNI).
            literal = f"[{address}]" if ":" in address else address
            netloc = f"{literal}:{parts.port}" if parts.port else literal
            url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
            extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
            try:
                # Only the status matters: the receiver's body is never read, so a receiver
                # cannot hold the worker (and its lease) or fill memory with an endless answer.
                request = client.build_request(
                    "POST", url, content=body, headers=headers, extensions=extensions
                )
                response = await client.send(request, stream=True)
                await response.aclose()
            except httpx.ConnectError as exc:
                last_error = f"could not connect: {type(exc).__name__}"
                continue
            except httpx.HTTPError as exc:
                return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
            ok = 200 <= response.status_code < 300
            return Outcome(
                ok,
                status_code=response.status_code,
                error=None if ok else f"receiver answered {response.status_code}",
            )
        return Outcome(False, error=last_error)

    async def _finish(
        self,
        delivery_id: str,
        token: str,
        outcome: Outcome,
        now: datetime,
        *,
        attempts: int = 0,
        final_status: str | None = None,
    ) -> None:
        values: dict = {
            "lease_token": None,
            "lease_expires_at": None,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
        }
        if final_status is not None:
            values["status"] = final_status
        elif outcome.ok:
            values.update(status=SUCCEEDED, delivered_at=now)
        elif attempts >= self.policy.max_attempts:
            values["status"] = FAILED
        else:
            values["next_attempt_at"] = now + timedelta(seconds=self.policy.backoff(attempts))
        async with self.db.unit_of_work() as session:
            # Only the lease holder may record the outcome: if the lease expired and another
            # worker took over, this result is dropped rather than overwriting theirs.
            await session.execute(
                update(g.WebhookDelivery)
                .where(g.WebhookDelivery.id == delivery_id, g.WebhookDelivery.lease_token == token)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if not outcome.ok:
            log.info("webhook delivery %s attempt failed: %s", delivery_id, outcome.error)


def _claimable(now: datetime):
    return outbox.claimable(g.WebhookDelivery, now)
