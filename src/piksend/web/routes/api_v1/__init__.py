"""The PikSend API under /api/v1: one router over the profile, galleries, images, stats and
webhooks, every operation guarded by exactly the scope its documentation names (RFC 6750)."""

from __future__ import annotations

from fastapi import APIRouter

from piksend.web.routes.api_v1 import galleries, images, me, stats, webhooks

router = APIRouter(prefix="/api/v1")
for resource in (me, galleries, images, stats, webhooks):
    router.include_router(resource.router)
