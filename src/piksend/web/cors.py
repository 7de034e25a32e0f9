"""CORS (the Fetch standard's CORS protocol) for browser-based apps, as one ASGI middleware.

Which origins each path answers:
- the token and revocation endpoints: the origins of the requesting client's registered
  redirect URIs. The endpoint knows the client only once it has parsed the body, so it calls
  ``allow_client_origin``; a preflight carries no body, so it is answered for an origin where
  some registered app has a redirect URI (the actual request is then checked per client);
- the authorization server metadata (RFC 8414 §3) and the protected resource metadata
  (RFC 9728 §3): any origin;
- ``/api/v1/*`` (bearer tokens, no cookies): any origin, exposing ``WWW-Authenticate``;
- everything else (pages, introspection, the session-guarded apps API): no CORS at all.
Never ``Access-Control-Allow-Credentials``, never ``*``; ``Vary: Origin`` wherever the
answer depends on it. A refused origin gets no ``Access-Control-*`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piksend.clients.registry import redirect_origin_registered
from piksend.oauth import redirect_uris
from piksend.oauth.client_auth import parse_basic
from piksend.oauth.errors import OAuthError
from piksend.oauth.stores import ClientStore
from piksend.storage.engine import Database

MAX_AGE = "600"
ALLOW_HEADERS = b"Authorization, Content-Type"
_DECISION = "piksend.cors"


class Policy(Enum):
    CLIENT = "client"  # the requesting client's redirect origins
    ANY = "any"  # any origin


@dataclass(frozen=True)
class Rule:
    policy: Policy
    methods: bytes
    expose: bytes | None = None


CLIENT_RULE = Rule(Policy.CLIENT, b"POST")
EXACT_RULES: Mapping[str, Rule] = {
    "/api/oauth/token": CLIENT_RULE,
    "/api/oauth/revoke": CLIENT_RULE,
    "/.well-known/oauth-authorization-server": Rule(Policy.ANY, b"GET"),
    # RFC 9728 §3: each protected resource's metadata, public like the server's.
    "/.well-known/oauth-protected-resource/api/v1": Rule(Policy.ANY, b"GET"),
    "/.well-known/oauth-protected-resource/mcp": Rule(Policy.ANY, b"GET"),
    # RFC 7591 §3: a browser-based app registers itself; it holds no cookie here.
    "/api/oauth/register": Rule(Policy.ANY, b"POST"),
}
API_RULE = Rule(Policy.ANY, b"GET, POST, PUT, PATCH, DELETE", expose=b"WWW-Authenticate")
API_PREFIX = "/api/v1/"
NO_CORS_PREFIX = "/api/v1/oauth/"  # app management: a browser session's, never cross-origin


def rule_for(path: str) -> Rule | None:
    if (rule := EXACT_RULES.get(path)) is not None:
        return rule
    if path.startswith(API_PREFIX) and not path.startswith(NO_CORS_PREFIX):
        return API_RULE
    return None


class _Decision:
    """The endpoint's verdict on the request's origin, read when the response starts."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.allowed = False


async def allow_client_origin(
    request: Request, params: Mapping[str, str], clients: ClientStore
) -> None:
    """Allow the request's origin when it is the origin of one of the requesting client's
    redirect URIs. Costs nothing for a request without ``Origin``; never raises."""
    decision = request.scope.get(_DECISION)
    if not isinstance(decision, _Decision):
        return
    client_id = params.get("client_id")
    if client_id is None:
        try:
            basic = parse_basic(request.headers.get("authorization"))
        except OAuthError:
            return
        client_id = basic[0] if basic else None
    if not client_id or len(client_id) > 200:
        return
    client = await clients.get_client(client_id)
    if client is not None and redirect_uris.origin_registered(
        decision.origin, client.redirect_uris
    ):
        decision.allowed = True


def _headers(origin: str, rule: Rule, *, preflight: bool) -> list[tuple[bytes, bytes]]:
    headers = [(b"access-control-allow-origin", origin.encode())]
    if preflight:
        headers += [
            (b"access-control-allow-methods", rule.methods),
            (b"access-control-allow-headers", ALLOW_HEADERS),
            (b"access-control-max-age", MAX_AGE.encode()),
        ]
    elif rule.expose:
        headers.append((b"access-control-expose-headers", rule.expose))
    return headers


def with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"origin" not in value.lower() and value.strip() != b"*":
                headers[index] = (name, value + b", Origin")
            return headers
    return [*headers, (b"vary", b"Origin")]


class CorsMiddleware:
    def __init__(self, app: ASGIApp, *, db: Database) -> None:
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = rule_for(scope["path"]) if scope["type"] == "http" else None
        if rule is None:
            await self.app(scope, receive, send)
            return
        origin = _origin(scope)
        if origin is None:
            # The token and revocation answers are no-store: no cache to tell, nothing to wrap.
            await self.app(scope, receive, send if rule is CLIENT_RULE else _vary_only(send))
            return
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await self._preflight(scope, receive, send, rule, origin)
            return
        decision = _Decision(origin)
        if rule.policy is Policy.ANY:
            decision.allowed = redirect_uris.is_origin(origin)
        else:
            scope = {**scope, _DECISION: decision}

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = with_vary(list(message.get("headers", [])))
                if decision.allowed:
                    headers += _headers(origin, rule, preflight=False)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(
        self, scope: Scope, receive: Receive, send: Send, rule: Rule, origin: str
    ) -> None:
        if rule.policy is Policy.ANY:
            allowed = redirect_uris.is_origin(origin)
        else:
            async with self.db.reader() as session:
                allowed = await redirect_origin_registered(session, origin=origin)
        if not allowed:  # answered as if CORS did not exist: the app's own 405
            await self.app(scope, receive, _vary_only(send))
            return
        headers = with_vary(_headers(origin, rule, preflight=True))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _origin(scope: Scope) -> str | None:
    raw = _header(scope, b"origin")
    return raw.decode("latin-1") if raw is not None else None


def _vary_only(send: Send) -> Send:
    async def send_with_vary(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": with_vary(list(message.get("headers", [])))}
        await send(message)

    return send_with_vary
