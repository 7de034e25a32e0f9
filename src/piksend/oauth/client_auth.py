"""Client authentication at the token, revocation and introspection endpoints.

RFC 6749 §2.3.1: ``client_secret_basic`` (HTTP Basic, each part form-urlencoded first) and
``client_secret_post`` (body parameters); §2.3: a client must not use more than one method.
Secrets are compared as SHA-256 digests in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import unquote_plus

from piksend.oauth import tokens
from piksend.oauth.errors import InvalidClientError, InvalidRequestError
from piksend.oauth.stores import ClientStore
from piksend.oauth.types import Client

INVALID_CREDENTIALS = "Invalid client_id or client_secret"
_DUMMY_DIGEST = tokens.digest("no-such-client")


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


def _secret_matches(client: Client, secret: str, now: datetime) -> bool:
    current = hmac.compare_digest(tokens.digest(secret), client.secret_digest)
    previous = False
    if client.previous_secret_digest and client.previous_secret_expires_at:
        previous = hmac.compare_digest(tokens.digest(secret), client.previous_secret_digest) and (
            client.previous_secret_expires_at > now
        )
    return current or previous


async def authenticate_client(
    params: Mapping[str, str],
    authorization_header: str | None,
    clients: ClientStore,
    now: datetime,
) -> Client:
    basic = parse_basic(authorization_header)
    used_basic = basic is not None
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
        secret = params.get("client_secret", "")
        if not client_id or not secret:
            raise InvalidClientError(
                "Client authentication required: send client_id and client_secret"
            )
    client = await clients.get_client(client_id) if len(client_id) <= 200 else None
    if client is None:
        hmac.compare_digest(tokens.digest(secret), _DUMMY_DIGEST)  # same work either way
        raise InvalidClientError(INVALID_CREDENTIALS, used_basic=used_basic)
    if not _secret_matches(client, secret, now):
        raise InvalidClientError(INVALID_CREDENTIALS, used_basic=used_basic)
    return client
