"""RFC 8414 §2: the authorization server metadata document, exactly (only what is supported)."""

from __future__ import annotations

from piksend.oauth.metadata import server_metadata

ISSUER = "https://auth.example.com"
BOTH = ["client_secret_basic", "client_secret_post"]
DOCUMENT = {
    "issuer": ISSUER,
    "authorization_endpoint": ISSUER + "/api/oauth/authorize",
    "token_endpoint": ISSUER + "/api/oauth/token",
    "revocation_endpoint": ISSUER + "/api/oauth/revoke",
    "introspection_endpoint": ISSUER + "/api/oauth/introspect",
    "scopes_supported": [
        "profile:read",
        "galleries:read",
        "galleries:write",
        "images:read",
        "images:write",
        "stats:read",
        "webhooks:read",
        "webhooks:write",
    ],
    "response_types_supported": ["code"],
    "response_modes_supported": ["query"],
    "grant_types_supported": ["authorization_code", "refresh_token"],
    "token_endpoint_auth_methods_supported": [*BOTH, "none"],
    "revocation_endpoint_auth_methods_supported": [*BOTH, "none"],
    # RFC 7662 §2.1: introspection is for authenticated clients only.
    "introspection_endpoint_auth_methods_supported": BOTH,
    "code_challenge_methods_supported": ["S256"],
    "authorization_response_iss_parameter_supported": True,
    "client_id_metadata_document_supported": True,
    "service_documentation": ISSUER + "/docs/oauth",
}


def test_the_document_lists_exactly_what_is_supported_without_registration_by_default():
    assert server_metadata(ISSUER) == DOCUMENT


def test_the_registration_endpoint_is_listed_only_when_registration_is_allowed():
    assert server_metadata(ISSUER, registration=True) == {
        **DOCUMENT,
        "registration_endpoint": ISSUER + "/api/oauth/register",
    }
