"""The whole error table, pinned: wire code and HTTP status of each error class."""

from __future__ import annotations

import pytest

from piksend.oauth import errors as e

TABLE = [
    (e.InvalidRequestError, "invalid_request", 400),
    (e.InvalidClientError, "invalid_client", 401),
    (e.InvalidGrantError, "invalid_grant", 400),
    (e.UnsupportedGrantTypeError, "unsupported_grant_type", 400),
    (e.UnsupportedResponseTypeError, "unsupported_response_type", 400),
    (e.InvalidScopeError, "invalid_scope", 400),
    (e.AccessDeniedError, "access_denied", 403),
    (e.TemporarilyUnavailableError, "temporarily_unavailable", 503),
    (e.InvalidTargetError, "invalid_target", 400),
    (e.InvalidRedirectUriError, "invalid_redirect_uri", 400),
    (e.InvalidClientMetadataError, "invalid_client_metadata", 400),
    (e.RequestNotSupportedError, "request_not_supported", 400),
    (e.RequestUriNotSupportedError, "request_uri_not_supported", 400),
]


@pytest.mark.parametrize(("cls", "code", "status"), TABLE)
def test_error_class_maps_to_wire_code_and_status(cls, code, status):
    error = cls("why")
    assert (str(error.code), error.status) == (code, status)
    assert error.to_dict() == {"error": code, "error_description": "why"}


@pytest.mark.parametrize(
    ("error", "status", "challenge"),
    [
        (e.BearerTokenError.missing(), 401, 'Bearer realm="r"'),
        (
            e.BearerTokenError.invalid("bad"),
            401,
            'Bearer realm="r", error="invalid_token", error_description="bad"',
        ),
        (
            e.BearerTokenError.insufficient_scope("stats:read"),
            403,
            'Bearer realm="r", error="insufficient_scope", '
            'error_description="This request needs the stats:read scope", scope="stats:read"',
        ),
    ],
)
def test_bearer_errors_and_their_challenges(error, status, challenge):
    assert error.status == status
    assert error.challenge("r") == challenge


def test_the_table_names_every_oauth_error_class():
    assert {row[0] for row in TABLE} == set(e.OAuthError.__subclasses__())


def test_unsafe_authorization_errors_are_not_oauth_errors():
    # decided by type: the web layer can only redirect OAuthErrors wrapped as redirectable
    assert not issubclass(e.UnsafeAuthorizationRequestError, e.OAuthError)


def test_a_pending_request_that_is_gone_is_an_unsafe_error_never_redirected():
    assert issubclass(e.PendingAuthorizationGoneError, e.UnsafeAuthorizationRequestError)
    assert not issubclass(e.PendingAuthorizationGoneError, e.OAuthError)


@pytest.mark.parametrize(
    "cls", [e.UnsafeAuthorizationRequestError, e.PendingAuthorizationGoneError]
)
def test_unsafe_authorization_errors_read_as_their_description(cls):
    # What a log line or a traceback shows of the error shown on the user's screen.
    error = cls("Unknown client_id")
    assert (str(error), error.description, error.status) == (
        "Unknown client_id",
        "Unknown client_id",
        400,
    )
