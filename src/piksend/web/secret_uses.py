"""Hands the client-secret uses a hot request noted to a background task of its response
(``piksend.clients.secret_uses``): written after the answer is sent, never inside its unit."""

from __future__ import annotations

from typing import TypeVar

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from piksend.clients import secret_uses
from piksend.storage.oauth import SqlOAuthStore
from piksend.web.context import ctx

R = TypeVar("R", bound=Response)


def after(response: R, request: Request, store: SqlOAuthStore | None) -> R:
    if store is not None and store.secret_uses:
        uses = tuple(store.secret_uses)
        response.background = BackgroundTask(
            secret_uses.record_after_response, ctx(request).db, uses
        )
    return response
