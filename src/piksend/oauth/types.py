"""Frozen values passed between the web layer, the protocol core and the stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from piksend.oauth.resources import API_PATH


class ClientType(StrEnum):
    """RFC 6749 §2.1: a confidential client keeps a secret; a public one (a browser, mobile,
    desktop or command-line app) cannot, and authenticates with nothing but its client_id."""

    CONFIDENTIAL = "confidential"
    PUBLIC = "public"


class TokenKind(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class RegisteredVia(StrEnum):
    """How an app came to be: registered by a developer who owns it, by itself (RFC 7591), or
    described by a client ID metadata document at its https client_id. Only an owner's app has
    been looked at by a person PikSend knows."""

    OWNER = "owner"
    DYNAMIC = "dynamic"
    METADATA_DOCUMENT = "metadata_document"


@dataclass(frozen=True)
class Client:
    client_id: str
    owner_id: str | None  # None for an app registered by itself or by a metadata document
    name: str
    secret_digest: str | None  # None for a public client
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    client_type: ClientType = ClientType.CONFIDENTIAL
    description: str = ""
    logo_url: str | None = None
    website_url: str | None = None
    previous_secret_digest: str | None = None
    previous_secret_expires_at: datetime | None = None
    registered_via: RegisteredVia = RegisteredVia.OWNER
    # When each secret last authenticated, to within an hour (oauth/client_auth.py).
    secret_used_at: datetime | None = None
    previous_secret_used_at: datetime | None = None

    @property
    def token_endpoint_auth_method(self) -> str:
        """RFC 7591 §2: ``none`` for a public client, a secret in HTTP Basic otherwise."""
        return "none" if self.client_type is ClientType.PUBLIC else "client_secret_basic"


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated RFC 6749 §4.1.1 request (with RFC 7636 §4.3 PKCE parameters)."""

    client: Client
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    code_challenge: str
    code_challenge_method: str = "S256"
    # RFC 8707 §2: the one resource the token will be for (piksend.oauth.resources).
    resource: str = API_PATH


@dataclass(frozen=True)
class PendingAuthorization:
    """A request waiting for the user's decision, kept on the server under an opaque id."""

    id: str
    client_id: str
    user_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    code_challenge: str
    code_challenge_method: str
    expires_at: datetime
    resource: str = API_PATH  # RFC 8707 §2 (piksend.oauth.resources)


@dataclass(frozen=True)
class AuthorizationCode:
    digest: str
    consent_id: str
    client_id: str
    user_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    code_challenge: str
    code_challenge_method: str
    expires_at: datetime
    used_at: datetime | None = None
    resource: str = API_PATH  # RFC 8707 §2 (piksend.oauth.resources)


@dataclass(frozen=True)
class TokenRecord:
    digest: str
    kind: TokenKind
    consent_id: str
    client_id: str
    user_id: str
    scope: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    rotated_at: datetime | None = None
    # RFC 8707 §2: the audience, the one resource this token is for (piksend.oauth.resources).
    resource: str = API_PATH
    # When its consent was created, as read with the token (oauth/grant_lifetime.py).
    granted_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.rotated_at is None and self.expires_at > now


class Transition(StrEnum):
    """How a grant's writes ended (GrantStore.rotate_refresh_token, GrantStore.redeem_code)."""

    DONE = "done"  # claimed, consent guarded, the new tokens saved
    CLAIM_LOST = "claim_lost"  # the code or refresh token was already used (or just expired)
    CONSENT_REVOKED = "consent_revoked"  # the authorization was revoked: nothing issued


@dataclass(frozen=True)
class Profile:
    """What a token's owner shows the apps they approved (GET /api/v1/me, RFC 7662 username)."""

    id: str
    email: str
    name: str
    avatar_url: str | None = None
    # Whether the owner proved they read ``email``: apps must never link accounts on an
    # unverified address (anyone may sign up with any address).
    email_verified: bool = False


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 30 * 24 * 3600  # a grant's idle timeout (oauth/grant_lifetime.py)
    code_ttl: int = 120
    grant_max_age: int = 90 * 24 * 3600  # a grant's absolute lifetime (oauth/grant_lifetime.py)
    # RFC 9700 §4.14.2: a rotated refresh token retried this soon is a grace retry
    # (piksend.oauth.refresh_grace); 0 makes every presentation of it reuse.
    refresh_grace_seconds: int = 60


@dataclass(frozen=True)
class TokenResponse:
    """RFC 6749 §5.1."""

    access_token: str
    refresh_token: str
    expires_in: int
    scope: tuple[str, ...]
    token_type: str = "Bearer"

    def to_dict(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": " ".join(self.scope),
        }
