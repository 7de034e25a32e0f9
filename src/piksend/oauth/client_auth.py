"""Client authentication at the token, revocation and introspection endpoints.

RFC 6749 §2.3.1: ``client_secret_basic`` (HTTP Basic, each part form-urlencoded first) and
``client_secret_post`` (body parameters); §2.3: a client must not use more than one method;
§2.1 and §3.2.1: a public client has no credentials and is identified by ``client_id`` in the
body (``none``, RFC 7591 §2); RFC 7662 §2.1: introspection is for authenticated clients only.
Secrets are compared as SHA-256 digests in constant time, with the same work on every path.
A secret's last use is noted to its store at most once per ``SECRET_USE_RESOLUTION`` (a product
rule, no RFC's): only when the use the client row carries is older, so a token request adds no
write of its own.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import unquote_plus

from piksend.oauth import tokens
from piksend.oauth.errors import InvalidClientError, InvalidRequestError
from piksend.oauth.stores import AuthenticatingClientStore
from piksend.oauth.types import Client, ClientType

INVALID_CREDENTIALS = "Invalid client_id or client_secret"
AUTHENTICATION_REQUIRED = "Client authentication required: send client_id and client_secret"
PUBLIC_CLIENT_SENT_SECRET = (
    "This client is public and has no client_secret: send client_id alone, without a secret "
    "or HTTP Basic credentials"
)
PUBLIC_CLIENT_NOT_ALLOWED = (
    "Token introspection requires an authenticated client; a public client cannot use it"
)
_DUMMY_DIGEST = tokens.digest("no-such-client")
SECRET_USE_RESOLUTION = timedelta(hours=1)


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """The (client_id, client_secret) of an ``Authorization: Basic`` header, if one was sent."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClientError("Malformed HTTP Basic credentials", used_basic=True) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClientError("Malformed HTTP Basic credentials", used_basic=True)
    return unquote_plus(client_id), unquote_plus(secret)


def _matching_secret(client: Client, presented: str, now: datetime) -> bool | None:
    """True: the current secret's digest; False: the previous one's, in its grace period;
    None: neither."""
    current = hmac.compare_digest(presented, client.secret_digest or _DUMMY_DIGEST) and (
        client.secret_digest is not None
    )
    previous = False
    if client.previous_secret_digest and client.previous_secret_expires_at:
        previous = hmac.compare_digest(presented, client.previous_secret_digest) and (
            client.previous_secret_expires_at > now
        )
    return True if current else False if previous else None


def _use_is_stale(used_at: datetime | None, now: datetime) -> bool:
    return used_at is None or used_at <= now - SECRET_USE_RESOLUTION


def _same_work(secret: str | None) -> None:
    """The digest and comparison a secret check costs, on the paths that have none to check."""
    hmac.compare_digest(tokens.digest(secret or ""), _DUMMY_DIGEST)


async def authenticate_client(
    params: Mapping[str, str],
    authorization_header: str | None,
    clients: AuthenticatingClientStore,
    now: datetime,
    *,
    public_allowed: bool = True,
) -> Client:
    """The client making the request, authenticated (RFC 6749 §2.3.1), or identified by
    ``client_id`` alone when it is public (§2.1, §3.2.1; RFC 7009 §2.1). ``public_allowed``
    is False where only an authenticated client may call (RFC 7662 §2.1)."""
    basic = parse_basic(authorization_header)
    used_basic = basic is not None
    secret: str | None
    if basic is not None:
        if "client_secret" in params:
            raise InvalidRequestError(
                "Use only one client authentication method (HTTP Basic or client_secret)"
            )
        client_id, secret = basic
        body_id = params.get("client_id")
        if body_id is not None and body_id != client_id:
            raise InvalidClientError(INVALID_CREDENTIALS, used_basic=True)
    else:
        client_id = params.get("client_id", "")
        secret = params.get("client_secret")
        if not client_id:
            raise InvalidClientError(AUTHENTICATION_REQUIRED)
    client = await clients.get_client(client_id) if len(client_id) <= 200 else None
    if client is None:
        _same_work(secret)
        raise InvalidClientError(INVALID_CREDENTIALS, used_basic=used_basic)
    if client.client_type is ClientType.PUBLIC:
        _same_work(secret)
        if secret is not None:
            # A public client has no secret (RFC 6749 §2.1): one sent is a misconfiguration
            # or a guess, never a credential.
            raise InvalidClientError(PUBLIC_CLIENT_SENT_SECRET, used_basic=used_basic)
        if not public_allowed:
            raise InvalidClientError(PUBLIC_CLIENT_NOT_ALLOWED)
        return client
    if secret is None:
        _same_work(secret)
        raise InvalidClientError(AUTHENTICATION_REQUIRED)
    presented = tokens.digest(secret)
    current = _matching_secret(client, presented, now)
    if current is None:
        raise InvalidClientError(INVALID_CREDENTIALS, used_basic=used_basic)
    used_at = client.secret_used_at if current else client.previous_secret_used_at
    if _use_is_stale(used_at, now):
        clients.secret_used(client.client_id, presented, now)
    return client
