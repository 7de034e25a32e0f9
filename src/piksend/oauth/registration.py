"""Dynamic client registration, RFC 7591 §2 (client metadata), §3.1 (the request), §3.2.1 (the
response), §3.2.2 (its errors), RFC 7592 §2 (the registration access token), with the operator's
policy of who may register without a person.

``PIKSEND_DYNAMIC_REGISTRATION``: ``off`` (no registration endpoint); ``public`` (the default:
public clients, ``token_endpoint_auth_method: none``, whose redirect URIs are all loopback or
private-use schemes, RFC 8252 §7.1, §7.3 — an app on the user's own device); ``open`` (also
confidential clients, ``client_secret_basic`` or ``client_secret_post``, with https redirects).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from piksend.oauth import display_text, redirect_uris
from piksend.oauth.errors import (
    InvalidClientMetadataError,
    InvalidRedirectUriError,
    InvalidScopeError,
)
from piksend.oauth.scopes import SCOPES, parse_scope, require_known
from piksend.oauth.types import ClientType

MAX_NAME = 100
MAX_URL = 2000
MAX_REDIRECT_URIS = 10
DEFAULT_NAME = "Unnamed app"
PUBLIC_METHOD = "none"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")
RESPONSE_TYPES = ("code",)


class RegistrationPolicy(StrEnum):
    OFF = "off"
    PUBLIC = "public"
    OPEN = "open"


@dataclass(frozen=True)
class ClientMetadata:
    """A registration request that passed every rule, in RFC 7591 §2's names."""

    client_name: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str
    scope: tuple[str, ...]
    grant_types: tuple[str, ...]
    client_uri: str | None = None
    logo_uri: str | None = None

    @property
    def client_type(self) -> ClientType:
        public = self.token_endpoint_auth_method == PUBLIC_METHOD
        return ClientType.PUBLIC if public else ClientType.CONFIDENTIAL

    def to_dict(self) -> dict[str, object]:
        """RFC 7591 §3.2.1: the response repeats every registered metadata value."""
        body: dict[str, object] = {
            "client_name": self.client_name,
            "redirect_uris": list(self.redirect_uris),
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "grant_types": list(self.grant_types),
            "response_types": list(RESPONSE_TYPES),
            "scope": " ".join(self.scope),
        }
        if self.client_uri is not None:
            body["client_uri"] = self.client_uri
        if self.logo_uri is not None:
            body["logo_uri"] = self.logo_uri
        return body


def validate_metadata(body: Mapping[str, object], policy: RegistrationPolicy) -> ClientMetadata:
    """The RFC 7591 §2 rules and the policy. Raises ``InvalidRedirectUriError`` or
    ``InvalidClientMetadataError`` (§3.2.2). Metadata it does not understand is ignored (§2)."""
    method = _string(body, "token_endpoint_auth_method")
    # RFC 7591 §2: when omitted, the default is client_secret_basic.
    method = method if method is not None else "client_secret_basic"
    if method != PUBLIC_METHOD and method not in SECRET_METHODS:
        raise InvalidClientMetadataError(
            "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post"
        )
    if policy is RegistrationPolicy.PUBLIC and method != PUBLIC_METHOD:
        raise InvalidClientMetadataError(
            "This server registers only public clients: token_endpoint_auth_method must be none"
        )
    client_type = ClientType.PUBLIC if method == PUBLIC_METHOD else ClientType.CONFIDENTIAL
    return ClientMetadata(
        client_name=_name(body),
        redirect_uris=_redirect_uris(body, client_type, policy),
        token_endpoint_auth_method=method,
        scope=_scope(body),
        grant_types=_grant_types(body),
        client_uri=_https_url(body, "client_uri"),
        logo_uri=_https_url(body, "logo_uri"),
    )


def on_this_device(uri: str) -> bool:
    """A redirect that stays on the user's device: a loopback host or a private-use scheme
    (RFC 8252 §7.1, §7.3), the only ones ``public`` registration accepts."""
    if redirect_uris.private_use_scheme(uri) is not None:
        return True
    host = urlsplit(uri).hostname
    return host is not None and host.lower() in redirect_uris.LOOPBACK_HOSTS


def _string(body: Mapping[str, object], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidClientMetadataError(f"{name} must be a string")
    return value


def _name(body: Mapping[str, object]) -> str:
    name = (_string(body, "client_name") or "").strip()
    if len(name) > MAX_NAME:
        raise InvalidClientMetadataError(f"client_name must be at most {MAX_NAME} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise InvalidClientMetadataError("client_name must not contain control characters")
    # Unicode TR #36/#39 (display_text): shown on consent, so nothing invisible or reversing,
    # and no app that registered itself is verified, so none may carry PikSend's name.
    if problem := display_text.hidden_character_problem(name, "client_name"):
        raise InvalidClientMetadataError(problem)
    if display_text.claims_piksend(name):
        raise InvalidClientMetadataError(display_text.PIKSEND_NAME_REFUSED)
    return name or DEFAULT_NAME


def _redirect_uris(
    body: Mapping[str, object], client_type: ClientType, policy: RegistrationPolicy
) -> tuple[str, ...]:
    uris = body.get("redirect_uris")
    # RFC 7591 §2: required for the redirect-based flows, the only ones this server has.
    if not isinstance(uris, list) or not uris:
        raise InvalidRedirectUriError("redirect_uris must be a non-empty array of URIs")
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUriError(f"At most {MAX_REDIRECT_URIS} redirect_uris")
    for uri in uris:
        if not isinstance(uri, str):
            raise InvalidRedirectUriError("redirect_uris must be an array of strings")
        problem = redirect_uris.registration_problem(uri, client_type)
        if problem is not None:
            raise InvalidRedirectUriError(f"{problem}: {uri}")
        if policy is RegistrationPolicy.PUBLIC and not on_this_device(uri):
            raise InvalidRedirectUriError(
                "This server registers only apps whose redirect URIs are loopback "
                f"(http://127.0.0.1, http://[::1], http://localhost) or private-use schemes: {uri}"
            )
    return tuple(dict.fromkeys(uris))


def _scope(body: Mapping[str, object]) -> tuple[str, ...]:
    raw = _string(body, "scope")
    if raw is None:
        return tuple(SCOPES)  # RFC 7591 §2: the server may pick a default set
    try:
        scope = parse_scope(raw)
        require_known(scope)
    except InvalidScopeError as exc:
        raise InvalidClientMetadataError(exc.description) from exc
    if not scope:
        raise InvalidClientMetadataError("scope must name at least one scope")
    return scope


def _grant_types(body: Mapping[str, object]) -> tuple[str, ...]:
    grants = body.get("grant_types", ["authorization_code"])
    responses = body.get("response_types", ["code"])
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        raise InvalidClientMetadataError("grant_types must be an array of strings")
    if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
        raise InvalidClientMetadataError("response_types must be an array of strings")
    unsupported = [g for g in grants if g not in GRANT_TYPES]
    if unsupported:
        raise InvalidClientMetadataError(f"Unsupported grant type: {unsupported[0]}")
    # RFC 7591 §2.1: authorization_code goes with the response type code.
    if "authorization_code" not in grants:
        raise InvalidClientMetadataError("grant_types must include authorization_code")
    if list(dict.fromkeys(responses)) != list(RESPONSE_TYPES):
        raise InvalidClientMetadataError('response_types must be ["code"]')
    # RFC 7591 §2: the server may replace a value; every app here gets refresh tokens.
    return GRANT_TYPES


def _https_url(body: Mapping[str, object], name: str) -> str | None:
    value = _string(body, name)
    if value is None or value == "":
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or len(value) > MAX_URL
        or parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or any(ch.isspace() for ch in value)
    ):
        raise InvalidClientMetadataError(f"{name} must be an https URL")
    return value
