"""The root of every error piksend raises on purpose.

OAuth protocol errors live in :mod:`piksend.oauth.errors`; the domain errors here are for
the product (apps, galleries, accounts) and map to one JSON shape or one HTML page.
"""

from __future__ import annotations


class PiksendError(Exception):
    """Root of all expected errors: anything else reaching the web layer is a bug (500)."""


class DomainError(PiksendError):
    status = 400
    code = "invalid_request"

    def __init__(self, description: str, *, field: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.field = field


class ValidationError(DomainError):
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
