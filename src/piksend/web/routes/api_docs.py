"""OpenAPI pieces shared by the /api/v1 routes: the error shape, the documented error
responses of each operation, and the OAuth 2.0 security scheme with a scope per operation;
and the API browser at /api/docs, Swagger UI served from piksend's own static files and started
by a static script, so it renders under the page CSP (script-src 'self') and offline."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse

from piksend.oauth.scopes import SCOPES

SECURITY_SCHEME = "piksend_oauth"
DOCS_PATH = "/api/docs"
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>PikSend API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/swagger-ui.css">
  <script src="/static/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body>
  <noscript><p>The API browser needs JavaScript. The OpenAPI document is at
  <a href="{openapi}">{openapi}</a>.</p></noscript>
  <div id="swagger-ui" data-openapi-url="{openapi}"></div>
</body>
</html>
"""


class ErrorBody(BaseModel):
    """One JSON error shape for every /api error (RFC 6750 errors use it too)."""

    error: str = Field(description="A machine-readable code, e.g. not_found")
    error_description: str = Field(description="A human-readable explanation")
    field: str | None = Field(default=None, description="The request field at fault, if any")


_BEARER_HEADERS = {
    "WWW-Authenticate": {
        "description": "RFC 6750 §3 challenge",
        "schema": {"type": "string"},
    }
}

_ERRORS: dict[int, dict[str, Any]] = {
    400: {"description": "invalid_request: the request is malformed or fails validation"},
    401: {
        "description": "RFC 6750: no access token, or an invalid, expired or revoked one",
        "headers": _BEARER_HEADERS,
    },
    403: {
        "description": "RFC 6750 insufficient_scope: the token lacks the scope this needs",
        "headers": _BEARER_HEADERS,
    },
    404: {"description": "not_found: no such object among this user's own"},
    409: {"description": "quota_exceeded: over a quota no wait frees (storage, webhooks per app)"},
    413: {"description": "payload_too_large: the upload is over the size limit"},
    422: {"description": "validation_error: the values are well-formed but not acceptable"},
    # RFC 6585 §4; the limits and their headers: draft-ietf-httpapi-ratelimit-headers.
    429: {
        "description": "too_many_requests: over a rate limit of this token or app; retry after "
        "`Retry-After` seconds",
        "headers": {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}},
            "RateLimit-Policy": {"description": "the limits", "schema": {"type": "string"}},
            "RateLimit": {"description": "what is left of them", "schema": {"type": "string"}},
        },
    },
}


def guarded(scope: str, *statuses: int) -> dict[str, Any]:
    """Route keyword arguments documenting the scope and the error responses (400, 401, 403
    and 429 always; plus ``statuses``)."""
    codes = sorted({400, 401, 403, 429, *statuses})
    return {
        "responses": {code: {"model": ErrorBody, **_ERRORS[code]} for code in codes},
        "openapi_extra": {"security": [{SECURITY_SCHEME: [scope]}]},
        "description": f"Requires the `{scope}` scope.",
    }


def install_openapi(app: FastAPI) -> None:
    """Add the OAuth 2.0 security scheme (authorization code with PKCE) to the document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=(
                "The PikSend API. Every operation needs an OAuth 2.0 access token "
                "(`Authorization: Bearer …`) holding the scope it names. Errors are one JSON "
                'shape, `{"error", "error_description"}`; authentication errors follow '
                "RFC 6750. Another user's objects are reported as 404, never 403."
            ),
            routes=app.routes,
        )
        _drop_framework_validation_errors(schema)
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/api/oauth/authorize",
                    "tokenUrl": "/api/oauth/token",
                    "refreshUrl": "/api/oauth/token",
                    "scopes": dict(SCOPES),
                }
            },
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    page = DOCS_PAGE.format(openapi=app.openapi_url or "/api/openapi.json")

    async def api_docs(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    # create_app passes docs_url=None: FastAPI's own page loads Swagger UI from a CDN.
    app.add_route(DOCS_PATH, api_docs, methods=["GET"], include_in_schema=False)


def _drop_framework_validation_errors(schema: dict[str, Any]) -> None:
    """FastAPI documents request validation failures as 422 ``HTTPValidationError``; piksend
    answers them with 400 ``invalid_request`` (documented on every operation), so drop them."""
    marker = "#/components/schemas/HTTPValidationError"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            body = responses.get("422", {}).get("content", {}).get("application/json", {})
            if body.get("schema", {}).get("$ref") == marker:
                del responses["422"]
    schemas = schema.get("components", {}).get("schemas", {})
    if marker not in str(schema.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
