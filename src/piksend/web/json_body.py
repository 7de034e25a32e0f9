"""JSON bodies whose objects name a key at most once (RFC 8259 §4: names SHOULD be unique).

``json.loads`` keeps the last of two equal names, so ``{"a": "x", "a": "y"}`` silently means
``{"a": "y"}``: whatever read the first one (a proxy, a log, a WAF) saw another request. The
API refuses such a body instead, as RFC 6749 §3.1 refuses a form parameter given twice.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"Key {key!r} appears more than once in a JSON object")
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return result


def loads_unique(text: str | bytes) -> Any:
    """``json.loads`` that raises ``DuplicateKeyError`` for a name repeated in any object."""
    return json.loads(text, object_pairs_hook=_unique)


# These three read their body with ``web.params.read_params``, which applies the same rule.
READ_BY_PARAMS = frozenset({"/api/oauth/token", "/api/oauth/revoke", "/api/oauth/introspect"})


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class UniqueJsonKeysMiddleware:
    """Refuse, as ``invalid_request``, a JSON request body that repeats a key in an object,
    before FastAPI's ``json.loads`` reads it as "the last one wins". Other bodies pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in READ_BY_PARAMS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to check
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            loads_unique(body)
        except DuplicateKeyError as exc:
            response = JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": f"Key {exc.key} was given more than once in an object",
                },
                status_code=400,
            )
            await response(scope, receive, send)
            return
        except (ValueError, RecursionError):
            pass  # not JSON at all: FastAPI's own parser says so, in the API's words
        await self.app(
            scope,
            _replay([{"type": "http.request", "body": body, "more_body": False}], receive),
            send,
        )


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replayed
