"""OAuth errors as data: RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1, RFC 6750 §3.1, RFC 8707 §2,
RFC 9101 §6.3.

Every wire code lives in :class:`ErrorCode`; each error class carries its code and HTTP
status. Whether an authorization error may be redirected to the client is decided by the
error's type: :class:`UnsafeAuthorizationRequestError` never is.
"""

from __future__ import annotations

from enum import StrEnum

from piksend.errors import PiksendError


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    INVALID_GRANT = "invalid_grant"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type"
    INVALID_SCOPE = "invalid_scope"
    INVALID_TARGET = "invalid_target"
    ACCESS_DENIED = "access_denied"
    SERVER_ERROR = "server_error"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
    INVALID_REDIRECT_URI = "invalid_redirect_uri"
    INVALID_CLIENT_METADATA = "invalid_client_metadata"
    INVALID_TOKEN = "invalid_token"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    REQUEST_NOT_SUPPORTED = "request_not_supported"
    REQUEST_URI_NOT_SUPPORTED = "request_uri_not_supported"


class OAuthError(PiksendError):
    code: ErrorCode = ErrorCode.SERVER_ERROR
    status: int = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def to_dict(self) -> dict[str, str]:
        return {"error": str(self.code), "error_description": self.description}


class InvalidRequestError(OAuthError):
    code = ErrorCode.INVALID_REQUEST


class InvalidClientError(OAuthError):
    """RFC 6749 §5.2: 401, with WWW-Authenticate when the client used HTTP Basic."""

    code = ErrorCode.INVALID_CLIENT
    status = 401

    def __init__(self, description: str, *, used_basic: bool = False) -> None:
        super().__init__(description)
        self.used_basic = used_basic


class InvalidGrantError(OAuthError):
    code = ErrorCode.INVALID_GRANT


class UnsupportedGrantTypeError(OAuthError):
    code = ErrorCode.UNSUPPORTED_GRANT_TYPE


class UnsupportedResponseTypeError(OAuthError):
    code = ErrorCode.UNSUPPORTED_RESPONSE_TYPE


class InvalidScopeError(OAuthError):
    code = ErrorCode.INVALID_SCOPE


class InvalidTargetError(OAuthError):
    """RFC 8707 §2: the ``resource`` is not one of this server's, malformed, or not allowed
    in this combination; redirected at authorize, JSON at the token endpoint."""

    code = ErrorCode.INVALID_TARGET


class AccessDeniedError(OAuthError):
    """RFC 6749 §4.1.2.1: the resource owner denied the request (sent by redirect)."""

    code = ErrorCode.ACCESS_DENIED
    status = 403


class TemporarilyUnavailableError(OAuthError):
    """RFC 6749 §4.1.2.1 (and §5.2, which admits the same condition): the server cannot
    handle the request now (its database or disk is unavailable); the client retries later.
    The web layer answers 503 with ``Retry-After`` (RFC 9110 §10.2.3), or at authorize, once
    the client and redirect URI are verified, a redirect carrying this code."""

    code = ErrorCode.TEMPORARILY_UNAVAILABLE
    status = 503


class InvalidRedirectUriError(OAuthError):
    """RFC 7591 §3.2.2: a registration's ``redirect_uris`` has a value that is not allowed."""

    code = ErrorCode.INVALID_REDIRECT_URI


class InvalidClientMetadataError(OAuthError):
    """RFC 7591 §3.2.2: a registration's other metadata is invalid or not allowed."""

    code = ErrorCode.INVALID_CLIENT_METADATA


class RequestNotSupportedError(OAuthError):
    """RFC 9101 §6.3 (OpenID Connect Core §3.1.2.6): a ``request`` object, which piksend does
    not accept."""

    code = ErrorCode.REQUEST_NOT_SUPPORTED


class RequestUriNotSupportedError(OAuthError):
    """RFC 9101 §6.3 (OpenID Connect Core §3.1.2.6): a ``request_uri``, which piksend does not
    accept (nor pushed authorization requests, RFC 9126)."""

    code = ErrorCode.REQUEST_URI_NOT_SUPPORTED


class UnsafeAuthorizationRequestError(PiksendError):
    """RFC 6749 §4.1.2.1: an unknown client or an unregistered redirect URI.

    The user agent must not be sent anywhere: this error is shown on the user's own screen.
    """

    status = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class PendingAuthorizationGoneError(UnsafeAuthorizationRequestError):
    """The pending request is unknown, expired or already decided, or its client is gone.

    No redirect URI can be trusted: the user is told to start again from the app.
    """


class BearerTokenError(PiksendError):
    """RFC 6750 §3.1: errors of a protected resource request."""

    def __init__(
        self,
        code: ErrorCode | None,
        description: str,
        *,
        status: int,
        scope: str | None = None,
        resource_metadata: str | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        self.scope = scope
        # RFC 9728 §5.1: where a client finds the protected resource's metadata.
        self.resource_metadata = resource_metadata

    def at(self, *, resource_metadata: str, scope: str | None) -> BearerTokenError:
        """This error as answered by a resource whose metadata is at ``resource_metadata``,
        naming ``scope`` when the request needs one (RFC 6750 §3, RFC 9728 §5.1)."""
        return BearerTokenError(
            self.code,
            self.description,
            status=self.status,
            scope=self.scope or scope,
            resource_metadata=resource_metadata,
        )

    @classmethod
    def missing(cls) -> BearerTokenError:
        # RFC 6750 §3.1: no error code when the request carried no authentication at all.
        return cls(None, "An access token is required", status=401)

    @classmethod
    def invalid(cls, description: str) -> BearerTokenError:
        return cls(ErrorCode.INVALID_TOKEN, description, status=401)

    @classmethod
    def invalid_request(cls, description: str) -> BearerTokenError:
        return cls(ErrorCode.INVALID_REQUEST, description, status=400)

    @classmethod
    def insufficient_scope(cls, scope: str) -> BearerTokenError:
        return cls(
            ErrorCode.INSUFFICIENT_SCOPE,
            f"This request needs the {scope} scope",
            status=403,
            scope=scope,
        )

    def challenge(self, realm: str) -> str:
        parts = [f'realm="{realm}"']
        if self.code is not None:
            parts.append(f'error="{self.code}"')
            parts.append(f'error_description="{self.description}"')
        if self.scope is not None:
            parts.append(f'scope="{self.scope}"')
        if self.resource_metadata is not None:
            parts.append(f'resource_metadata="{self.resource_metadata}"')
        return "Bearer " + ", ".join(parts)
