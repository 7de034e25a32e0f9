"""Webhooks: receivers registered by an app for one user, and the outbox of their deliveries.

A webhook belongs to the user and the app (client) whose token created it; it is visible only
through that pair and stops when the user revokes the app. Every event is written to
``webhook_deliveries`` in the same transaction as the change that caused it (a transactional
outbox); :mod:`piksend.gallery.delivery` sends them.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args
from urllib.parse import urlsplit

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.errors import DomainError, NotFound, ValidationError
from piksend.fetch import ssrf
from piksend.gallery import webhook_signing
from piksend.gallery.pagination import Page, apply_cursor, page_of
from piksend.storage import tables as t
from piksend.storage.tables import gallery as g
from piksend.storage.tables import new_id

Event = Literal[
    "gallery.created", "gallery.updated", "gallery.deleted", "image.uploaded", "image.deleted"
]
EVENTS: tuple[Event, ...] = get_args(Event)
TEST_EVENT = "webhook.test"
# An event carries gallery or image data: receiving it needs the scope that would read it.
EVENT_SCOPES: dict[str, str] = {
    "gallery.created": "galleries:read",
    "gallery.updated": "galleries:read",
    "gallery.deleted": "galleries:read",
    "image.uploaded": "images:read",
    "image.deleted": "images:read",
}

DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]
PENDING: DeliveryStatus = "pending"
SUCCEEDED: DeliveryStatus = "succeeded"
FAILED: DeliveryStatus = "failed"
CANCELLED: DeliveryStatus = "cancelled"

_LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".localdomain")


@dataclass(frozen=True)
class WebhookView:
    id: str
    url: str
    description: str
    events: tuple[Event, ...]
    active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    id: str
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None  # None once the delivery is final
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


def _webhook_view(row: g.Webhook) -> WebhookView:
    return WebhookView(
        id=row.id,
        url=row.url,
        description=row.description,
        events=tuple(row.events),
        active=row.active,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delivery_view(row: g.WebhookDelivery) -> DeliveryView:
    # The column holds only the statuses above.
    status = cast(DeliveryStatus, row.status)
    return DeliveryView(
        id=row.id,
        event=row.event,
        status=status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if status == PENDING else None,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


def _target_problem(url: str, *, allow_private: bool) -> str | None:
    """The syntax check, plus what can be refused without DNS: a private literal address or a
    local name. Resolution happens again right before each delivery (DNS may change)."""
    problem = ssrf.target_problem(url, allow_private=allow_private)
    if problem is not None or allow_private:
        return problem
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and ssrf.is_forbidden(address):
        return "URL must not point to a private, loopback or link-local address"
    if host == "localhost" or host.endswith(_LOCAL_NAMES):
        return "URL must not point to a local host name"
    return None


def _check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise ValidationError(f"Unknown event: {unknown[0]}", field="events")
    if not events:
        raise ValidationError("Choose at least one event", field="events")
    return [e for e in EVENTS if e in events]


async def consent_is_live(session: AsyncSession, *, user_id: str, client_id: str) -> bool:
    """True while the user has at least one unrevoked consent for the app."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    t.Consent.user_id == user_id,
                    t.Consent.client_id == client_id,
                    t.Consent.revoked_at.is_(None),
                )
            )
        )
    )


class WebhookQuotaError(DomainError):
    status = 409
    code = "quota_exceeded"


async def create_webhook(
    session: AsyncSession,
    *,
    user_id: str,
    client_id: str,
    url: str,
    events: list[str],
    description: str,
    allow_private: bool,
    now: datetime,
    max_per_app: int | None = None,
) -> tuple[WebhookView, str]:
    """Register a receiver; returns it with its signing secret, which is shown only now.
    An app holds at most ``max_per_app`` receivers for one user (issue 15: a quota, 409)."""
    problem = _target_problem(url, allow_private=allow_private)
    if problem:
        raise ValidationError(problem, field="url")
    if max_per_app is not None:
        held = await session.scalar(
            select(func.count())
            .select_from(g.Webhook)
            .where(g.Webhook.user_id == user_id, g.Webhook.client_id == client_id)
        )
        if (held or 0) >= max_per_app:
            raise WebhookQuotaError(
                f"This app already has {max_per_app} webhooks for this account, the most it "
                "may have; delete one first"
            )
    secret = webhook_signing.generate_secret()
    row = g.Webhook(
        id=new_id("whk"),
        user_id=user_id,
        client_id=client_id,
        url=url,
        description=description,
        events=_check_events(events),
        secret=secret,
        active=True,
        disabled_reason=None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _webhook_view(row), secret


async def _owned_webhook(
    session: AsyncSession, *, user_id: str, client_id: str, webhook_id: str
) -> g.Webhook:
    row = await session.get(g.Webhook, webhook_id)
    if row is None or row.user_id != user_id or row.client_id != client_id:
        raise NotFound("No such webhook")
    return row


async def get_webhook(
    session: AsyncSession, *, user_id: str, client_id: str, webhook_id: str
) -> WebhookView:
    """The webhook if the user and the app own it; anyone else's is simply not found."""
    row = await _owned_webhook(session, user_id=user_id, client_id=client_id, webhook_id=webhook_id)
    return _webhook_view(row)


async def list_webhooks(
    session: AsyncSession, *, user_id: str, client_id: str, cursor: str | None, limit: int
) -> Page[WebhookView]:
    query = select(g.Webhook).where(g.Webhook.user_id == user_id, g.Webhook.client_id == client_id)
    rows = list((await session.scalars(apply_cursor(query, g.Webhook, cursor, limit))).all())
    items, next_cursor = page_of(rows, limit)
    return Page([_webhook_view(r) for r in items], next_cursor)


async def update_webhook(
    session: AsyncSession,
    *,
    user_id: str,
    client_id: str,
    webhook_id: str,
    changes: dict[str, Any],
    allow_private: bool,
    now: datetime,
) -> WebhookView:
    row = await _owned_webhook(session, user_id=user_id, client_id=client_id, webhook_id=webhook_id)
    if "url" in changes:
        problem = _target_problem(changes["url"], allow_private=allow_private)
        if problem:
            raise ValidationError(problem, field="url")
        row.url = changes["url"]
    if "events" in changes:
        row.events = _check_events(changes["events"])
    if "description" in changes:
        row.description = changes["description"]
    if "active" in changes:
        row.active = bool(changes["active"])
        row.disabled_reason = None if row.active else "disabled by the app"
    row.updated_at = now
    await session.flush()
    return _webhook_view(row)


async def delete_webhook(
    session: AsyncSession, *, user_id: str, client_id: str, webhook_id: str
) -> None:
    row = await _owned_webhook(session, user_id=user_id, client_id=client_id, webhook_id=webhook_id)
    await session.delete(row)
    await session.flush()


def _payload(delivery_id: str, event: str, data: dict, now: datetime) -> str:
    body = {
        "id": delivery_id,
        "event": event,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _delivery(webhook_id: str, event: str, data: dict, now: datetime) -> g.WebhookDelivery:
    delivery_id = new_id("dlv")
    return g.WebhookDelivery(
        id=delivery_id,
        webhook_id=webhook_id,
        event=event,
        payload=_payload(delivery_id, event, data, now),
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


async def enqueue_event(
    session: AsyncSession, *, user_id: str, event: str, data: dict, now: datetime
) -> int:
    """Write one delivery per active webhook of the user that listens for ``event``, in the
    caller's transaction: the change and its deliveries commit or vanish together."""
    live_consent = exists().where(
        t.Consent.user_id == g.Webhook.user_id,
        t.Consent.client_id == g.Webhook.client_id,
        t.Consent.revoked_at.is_(None),
    )
    hooks = (
        await session.scalars(
            select(g.Webhook).where(
                g.Webhook.user_id == user_id, g.Webhook.active.is_(True), live_consent
            )
        )
    ).all()
    if not hooks:
        return 0
    # What each app may still read for this user: the union of its live consents' scopes.
    granted: dict[str, set[str]] = {}
    for client_id, scope in await session.execute(
        select(t.Consent.client_id, t.Consent.scope).where(
            t.Consent.user_id == user_id, t.Consent.revoked_at.is_(None)
        )
    ):
        granted.setdefault(client_id, set()).update(scope.split())
    needed = EVENT_SCOPES.get(event)
    count = 0
    for hook in hooks:
        allowed = needed is None or needed in granted.get(hook.client_id, set())
        if allowed and event in (hook.events or []):
            session.add(_delivery(hook.id, event, data, now))
            count += 1
    if count:
        await session.flush()
    return count


async def send_test_event(
    session: AsyncSession, *, webhook: WebhookView, now: datetime
) -> DeliveryView:
    """Queue a ``webhook.test`` delivery; it goes through the same outbox as real events."""
    delivery = _delivery(
        webhook.id, TEST_EVENT, {"webhook_id": webhook.id, "message": "This is a test."}, now
    )
    session.add(delivery)
    await session.flush()
    return _delivery_view(delivery)


async def list_deliveries(
    session: AsyncSession, *, webhook_id: str, cursor: str | None, limit: int
) -> Page[DeliveryView]:
    query = select(g.WebhookDelivery).where(g.WebhookDelivery.webhook_id == webhook_id)
    rows = list(
        (await session.scalars(apply_cursor(query, g.WebhookDelivery, cursor, limit))).all()
    )
    items, next_cursor = page_of(rows, limit)
    return Page([_delivery_view(r) for r in items], next_cursor)
