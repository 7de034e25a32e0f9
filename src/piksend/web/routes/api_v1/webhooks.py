"""/api/v1/webhooks: an app's receivers for one user, their delivery log and test events.

A webhook is visible only to the user and app whose token made it; anyone else gets 404.
Receiving an event also needs the scope that would read its data (``EVENT_SCOPES``).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from piksend.gallery import webhooks
from piksend.gallery.pagination import DEFAULT_LIMIT
from piksend.gallery.webhooks import DeliveryStatus, DeliveryView, Event, WebhookView
from piksend.oauth.bearer import require_scope
from piksend.web import rate_limits
from piksend.web.context import ctx
from piksend.web.routes.api_v1.common import (
    ApiCall,
    Cursor,
    Id,
    Limit,
    Strict,
    omittable,
    operation,
    scoped,
)

router = APIRouter(tags=["webhooks"])


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str
    events: list[Event]
    active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only in this response.")


class WebhookList(BaseModel):
    data: list[WebhookOut]
    next_cursor: str | None


URL_PATTERN = r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[^\s#\\]*)?$"


class WebhookCreate(Strict):
    url: str = Field(min_length=1, max_length=2000, pattern=URL_PATTERN, description="An https URL")
    events: list[Event] = Field(min_length=1, max_length=len(webhooks.EVENTS))
    description: str = Field(default="", max_length=500)


class WebhookPatch(Strict):
    url: str = omittable(min_length=1, max_length=2000, pattern=URL_PATTERN)
    events: list[Event] = omittable(min_length=1, max_length=len(webhooks.EVENTS))
    description: str = omittable(max_length=500)
    active: bool = omittable()


class DeliveryOut(BaseModel):
    id: str = Field(description="Sent as X-PikSend-Delivery; the same on every retry")
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None


def webhook_out(view: WebhookView) -> WebhookOut:
    return WebhookOut(
        id=view.id,
        url=view.url,
        description=view.description,
        events=list(view.events),
        active=view.active,
        disabled_reason=view.disabled_reason,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def delivery_out(view: DeliveryView) -> DeliveryOut:
    return DeliveryOut(
        id=view.id,
        event=view.event,
        status=view.status,
        attempts=view.attempts,
        next_attempt_at=view.next_attempt_at,
        last_attempt_at=view.last_attempt_at,
        last_status_code=view.last_status_code,
        last_error=view.last_error,
        delivered_at=view.delivered_at,
        created_at=view.created_at,
    )


async def _own_webhook(call: ApiCall, webhook_id: str) -> WebhookView:
    return await webhooks.get_webhook(
        call.session, user_id=call.user_id, client_id=call.token.client_id, webhook_id=webhook_id
    )


@operation(
    router.get,
    "/webhooks",
    scoped("webhooks:read"),
    summary="List this app's webhooks for the user",
)
async def list_webhooks(
    call: ApiCall, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> WebhookList:
    page = await webhooks.list_webhooks(
        call.session,
        user_id=call.user_id,
        client_id=call.token.client_id,
        cursor=cursor,
        limit=limit,
    )
    return WebhookList(data=[webhook_out(v) for v in page.items], next_cursor=page.next_cursor)


@operation(
    router.post,
    "/webhooks",
    scoped("webhooks:write", 409, 422),
    status_code=201,
    summary="Register a webhook",
)
async def create_webhook(request: Request, body: WebhookCreate, call: ApiCall) -> WebhookCreated:
    c = ctx(request)
    for event in body.events:
        require_scope(call.token, webhooks.EVENT_SCOPES[event])
    view, secret = await webhooks.create_webhook(
        call.session,
        user_id=call.user_id,
        client_id=call.token.client_id,
        url=body.url,
        events=list(body.events),
        description=body.description,
        allow_private=c.settings.webhooks_allow_private_targets,
        now=c.now(),
        max_per_app=c.settings.webhooks_per_app,
    )
    return WebhookCreated(**webhook_out(view).model_dump(), secret=secret)


@operation(
    router.get, "/webhooks/{webhook_id}", scoped("webhooks:read", 404), summary="Get a webhook"
)
async def get_webhook(webhook_id: Id, call: ApiCall) -> WebhookOut:
    return webhook_out(await _own_webhook(call, webhook_id))


@operation(
    router.patch,
    "/webhooks/{webhook_id}",
    scoped("webhooks:write", 404, 422),
    summary="Change a webhook",
)
async def update_webhook(
    request: Request, webhook_id: Id, body: WebhookPatch, call: ApiCall
) -> WebhookOut:
    c = ctx(request)
    for event in body.events or ():
        require_scope(call.token, webhooks.EVENT_SCOPES[event])
    view = await webhooks.update_webhook(
        call.session,
        user_id=call.user_id,
        client_id=call.token.client_id,
        webhook_id=webhook_id,
        changes=body.model_dump(exclude_unset=True),
        allow_private=c.settings.webhooks_allow_private_targets,
        now=c.now(),
    )
    return webhook_out(view)


@operation(
    router.delete,
    "/webhooks/{webhook_id}",
    scoped("webhooks:write", 404),
    status_code=204,
    summary="Delete a webhook",
    response_class=Response,
)
async def delete_webhook(webhook_id: Id, call: ApiCall) -> Response:
    await webhooks.delete_webhook(
        call.session, user_id=call.user_id, client_id=call.token.client_id, webhook_id=webhook_id
    )
    return Response(status_code=204)


@operation(
    router.get,
    "/webhooks/{webhook_id}/deliveries",
    scoped("webhooks:read", 404),
    summary="The webhook's delivery log",
)
async def list_deliveries(
    webhook_id: Id, call: ApiCall, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> DeliveryList:
    hook = await _own_webhook(call, webhook_id)
    page = await webhooks.list_deliveries(
        call.session, webhook_id=hook.id, cursor=cursor, limit=limit
    )
    return DeliveryList(data=[delivery_out(d) for d in page.items], next_cursor=page.next_cursor)


@operation(
    router.post,
    "/webhooks/{webhook_id}/test",
    scoped("webhooks:write", 404),
    status_code=202,
    summary="Send a test event",
)
async def send_test_event(request: Request, webhook_id: Id, call: ApiCall) -> DeliveryOut:
    hook = await _own_webhook(call, webhook_id)
    await rate_limits.limit_per_minute(
        request,
        name="webhook-tests",
        quota=ctx(request).settings.webhook_tests_per_minute,
        subject=f"{call.user_id}\n{call.token.client_id}",
        session=call.session,
    )
    delivery = await webhooks.send_test_event(call.session, webhook=hook, now=ctx(request).now())
    return delivery_out(delivery)
