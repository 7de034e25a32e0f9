"""Response headers and request-size limits applied to every request (pure ASGI middleware).

The page CSP (CSP3) allows only what piksend's pages use: their own scripts, styles and images
(app logos are served by piksend, ``data:`` for the letter avatars), forms posted to this
server; the consent page widens ``form-action`` to the app's one redirect URI
(:func:`consent_csp`). HSTS (RFC 6797 §6.1) is sent when the public URL is https.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piksend.errors import PayloadTooLarge

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PAGE_CSP = _CSP.format(form_action="'self'")
HTML_HEADERS = {
    "x-frame-options": "DENY",
    "content-security-policy": PAGE_CSP,
}
# RFC 6797 §6.1: a year, and every subdomain (the issuer's host serves only piksend over https).
HSTS = "max-age=31536000; includeSubDomains"
# CSP3 §6.1 source expressions: a scheme-source, or a host-source with scheme and port.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_NETLOC = re.compile(r"[a-z0-9.\-\[\]:]+")


def consent_csp(redirect_uri: str) -> str:
    """The consent page's CSP: its form may go to this server and, through the 303 that answers
    it, to the app's one redirect URI — which may be a private-use scheme (RFC 8252 §7.1), which
    ``http: https:`` does not cover and Chromium checks ``form-action`` against (CSP3 §6.3.3)."""
    parts = urlsplit(redirect_uri)
    scheme = parts.scheme.lower()
    if not _SCHEME.fullmatch(scheme):
        return _CSP.format(form_action="'self'")
    if scheme in ("http", "https"):
        netloc = parts.netloc.lower().rpartition("@")[2]
        if not _NETLOC.fullmatch(netloc):
            return _CSP.format(form_action="'self'")
        return _CSP.format(form_action=f"'self' {scheme}://{netloc}")
    return _CSP.format(form_action=f"'self' {scheme}:")


COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class SecurityHeadersMiddleware:
    """Headers on every response; ``hsts`` when the public URL is https (RFC 6797 §7.2: the
    header means something only over TLS, which a proxy in front of piksend terminates)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.common = {**COMMON_HEADERS, **({"strict-transport-security": HSTS} if hsts else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                is_html = any(
                    k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers
                )
                extra = dict(self.common)
                if is_html:
                    extra.update(HTML_HEADERS)
                for name, value in extra.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)


PAGE_UPLOAD_FILES = 10  # files one upload form of the gallery page may carry


class BodyLimitMiddleware:
    """Refuse bodies over the limit with 413 before they are read whole (Content-Length),
    and stop reading a chunked body as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, *, default_limit: int, upload_limit: int) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit

    def limit_for(self, path: str) -> int:
        if path.startswith("/api/v1/galleries/") and path.endswith("/images"):
            return self.upload_limit
        if path.startswith("/galleries/") and path.endswith("/images"):
            return self.upload_limit * PAGE_UPLOAD_FILES  # the gallery page's form of files
        if path == "/mcp":  # the upload_image tool carries an image as base64: 4/3 of its bytes
            return self.upload_limit * 4 // 3
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    if scope["path"].startswith("/galleries/"):
                        await _reject_page(send, limit)
                    else:
                        await _reject(send, limit)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)


async def _reject_page(send: Send, limit: int) -> None:
    """A browser posting the gallery page's upload form gets a page it can read, not JSON."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too large · PikSend'
        '</title><link rel="stylesheet" href="/static/piksend.css"></head><body><main>'
        "<h1>These files are too large together</h1><p>This upload is larger than "
        f"{limit} bytes, so nothing was uploaded. Go back and choose fewer or smaller files at "
        'a time.</p><p><a href="/galleries">Your galleries</a></p></main></body></html>'
    ).encode()
    await _send_413(send, b"text/html; charset=utf-8", body)


async def _reject(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": "payload_too_large",
            "error_description": f"The request body is larger than {limit} bytes",
        }
    ).encode()
    await _send_413(send, b"application/json", body)


async def _send_413(send: Send, content_type: bytes, body: bytes) -> None:
    """413 before the body was read: the connection closes, the rest of the body is not waited for."""
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
