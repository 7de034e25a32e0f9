"""``GET /apps/{client_id}/logo.png``: an app's logo as piksend serves it (``clients.logos``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from piksend.clients import logos
from piksend.errors import NotFound
from piksend.web.context import ctx

router = APIRouter()
# RFC 9111 §5.2.2.1 and RFC 8246: the versioned URL never changes what it shows.
FOREVER = "public, max-age=31536000, immutable"
# An unversioned or stale link (the logo URL changed since the page was made): briefly.
BRIEFLY = "public, max-age=300"
# The SVG avatar holds no script, and may run none if opened on its own (CSP3).
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def policy_of(request: Request) -> logos.LogoPolicy:
    s = ctx(request).settings
    return logos.LogoPolicy(
        timeout=s.logo_fetch_timeout,
        max_bytes=s.logo_max_bytes,
        size=s.logo_size,
        allow_private=s.webhooks_allow_private_targets,
    )


@router.get("/apps/{client_id:path}/logo.png")
async def app_logo(request: Request, client_id: str, v: str = "") -> Response:
    c = ctx(request)
    found = await logos.logo_for(c.db, client_id, policy_of(request), c.now())
    if found is None:
        raise NotFound("No such application")
    current = v == found.version
    headers = {"cache-control": FOREVER if current else BRIEFLY}
    if found.content_type == logos.SVG:
        headers["content-security-policy"] = SVG_CSP
    return Response(found.body, media_type=found.content_type, headers=headers)
