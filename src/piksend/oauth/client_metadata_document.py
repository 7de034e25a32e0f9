"""Client ID metadata documents, draft-ietf-oauth-client-id-metadata-document §3 (the client
identifier URL), §4 (the document and its ``client_id``), §4.1 (client authentication), §6 (the
authorization server fetches it), with RFC 7591 §2's metadata names.

An app with no registration names itself by an https URL; the document served there describes
it, and is trusted only as far as its URL: its ``client_id`` must be that exact URL, and its
redirect URIs are the only ones a request may use. Such an app is public (it cannot keep a
shared secret in a public document); ``private_key_jwt`` is not supported here.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from piksend.oauth import display_text, redirect_uris
from piksend.oauth.errors import InvalidScopeError
from piksend.oauth.scopes import SCOPES, parse_scope, require_known
from piksend.oauth.types import Client, ClientType, RegisteredVia

MAX_DOCUMENT_BYTES = 5 * 1024  # §6: a small document; larger ones are refused
# The authorization request reads client_ids of at most 200 characters.
MAX_URL_LENGTH = 200
MAX_NAME = 100
MAX_REDIRECT_URIS = 10


class DocumentRefused(Exception):
    """The document or its URL breaks a rule; ``reason`` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def names_a_document(client_id: str, *, allow_http: bool = False) -> bool:
    """Whether ``client_id`` is a URL to fetch (§3) rather than an id this server issued.
    ``allow_http``: the development setting that also lets webhooks reach loopback."""
    return client_id.startswith("https://") or (allow_http and client_id.startswith("http://"))


def url_problem(url: str, *, allow_http: bool = False) -> str | None:
    """§3: https, a host, a path, no fragment, no credentials, no dot segments."""
    if len(url) > MAX_URL_LENGTH:
        return f"the client_id URL must be at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        return "the client_id is not a valid URL"
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        return "the client_id URL must use https"
    if not parts.hostname:
        return "the client_id URL must include a host"
    if parts.username is not None or parts.password is not None:
        return "the client_id URL must not contain a username or password"
    if "#" in url:
        return "the client_id URL must not contain a fragment"
    if parts.path in ("", "/"):
        return "the client_id URL must have a path"
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return "the client_id URL must not contain . or .. path segments"
    return None


def client_from_document(url: str, body: bytes) -> Client:
    """The public ``Client`` a fetched document describes, or ``DocumentRefused``."""
    if len(body) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DocumentRefused("the document is not JSON") from None
    if not isinstance(document, dict):
        raise DocumentRefused("the document is not a JSON object")
    # §4: the document names itself; anything else could be a document copied from elsewhere.
    if document.get("client_id") != url:
        raise DocumentRefused("the client_id in the document is not its URL")
    _check_auth_method(document.get("token_endpoint_auth_method"))
    return Client(
        client_id=url,
        owner_id=None,
        name=_name(document, url),
        secret_digest=None,
        redirect_uris=_redirect_uris(document),
        scopes=_scopes(document),
        client_type=ClientType.PUBLIC,
        logo_url=_https(document, "logo_uri"),
        website_url=_https(document, "client_uri"),
        registered_via=RegisteredVia.METADATA_DOCUMENT,
    )


def _check_auth_method(method: object) -> None:
    # §4.1: a public document cannot hold a shared secret; private_key_jwt is the draft's other
    # method, which this server does not offer.
    if method is None or method == "none":
        return
    if method == "private_key_jwt":
        raise DocumentRefused("token_endpoint_auth_method private_key_jwt is not supported")
    raise DocumentRefused("token_endpoint_auth_method must be none")


def _name(document: dict[str, object], url: str) -> str:
    name = document.get("client_name")
    if name is None:
        return urlsplit(url).hostname or url
    if not isinstance(name, str) or not name.strip():
        raise DocumentRefused("client_name must be a non-empty string")
    if len(name) > MAX_NAME or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise DocumentRefused(f"client_name must be at most {MAX_NAME} printable characters")
    # Unicode TR #36/#39 (display_text): nothing invisible or reversing; never PikSend's name.
    if problem := display_text.hidden_character_problem(name, "client_name"):
        raise DocumentRefused(problem)
    if display_text.claims_piksend(name):
        raise DocumentRefused(display_text.PIKSEND_NAME_REFUSED)
    return name.strip()


def _redirect_uris(document: dict[str, object]) -> tuple[str, ...]:
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise DocumentRefused("redirect_uris must be a non-empty array of URIs")
    if len(uris) > MAX_REDIRECT_URIS:
        raise DocumentRefused(f"at most {MAX_REDIRECT_URIS} redirect_uris")
    for uri in uris:
        problem = redirect_uris.registration_problem(uri, ClientType.PUBLIC)
        if problem is not None:
            raise DocumentRefused(f"{problem}: {uri}")
    return tuple(dict.fromkeys(uris))


def _scopes(document: dict[str, object]) -> tuple[str, ...]:
    raw = document.get("scope")
    if raw is None:
        return tuple(SCOPES)
    if not isinstance(raw, str):
        raise DocumentRefused("scope must be a string")
    try:
        scope = parse_scope(raw)
        require_known(scope)
    except InvalidScopeError as exc:
        raise DocumentRefused(exc.description) from None
    if not scope:
        raise DocumentRefused("scope must name at least one scope")
    return scope


def _https(document: dict[str, object], name: str) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 2000:
        raise DocumentRefused(f"{name} must be an https URL")
    return value
