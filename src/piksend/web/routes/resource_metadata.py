"""RFC 9728 §3: the protected resource metadata of the API and of the MCP endpoint, at their
well-known URLs (``resources.metadata_url``); open to any origin, like the RFC 8414 document."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from piksend.oauth import resources
from piksend.oauth.resource_metadata import resource_metadata
from piksend.web.context import ctx

router = APIRouter()


@router.get(resources.METADATA_PREFIX + resources.API_PATH)
async def api_metadata(request: Request) -> JSONResponse:
    issuer = ctx(request).policy.issuer
    return JSONResponse(resource_metadata(resources.api_resource(issuer), issuer))


@router.get(resources.METADATA_PREFIX + resources.MCP_PATH)
async def mcp_metadata(request: Request) -> JSONResponse:
    issuer = ctx(request).policy.issuer
    return JSONResponse(resource_metadata(resources.mcp_resource(issuer), issuer))
