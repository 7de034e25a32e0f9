"""Authorization server metadata, RFC 8414 §2 — listing only what is really supported."""

from __future__ import annotations

from piksend.oauth.pkce import SUPPORTED_METHODS
from piksend.oauth.scopes import SCOPES
from piksend.oauth.token_endpoint import GRANT_HANDLERS

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
# RFC 6749 §2.1, RFC 7009 §2.1: public clients (``none``, RFC 7591 §2) at the token and revocation
# endpoints; RFC 7662 §2.1: introspection only for authenticated clients.
PUBLIC_AUTH_METHODS = [*AUTH_METHODS, "none"]


def server_metadata(issuer: str, *, registration: bool = False) -> dict[str, object]:
    """``registration``: whether the operator allows dynamic registration (RFC 7591 §3)."""
    metadata: dict[str, object] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/api/oauth/authorize",
        "token_endpoint": f"{issuer}/api/oauth/token",
        "revocation_endpoint": f"{issuer}/api/oauth/revoke",
        "introspection_endpoint": f"{issuer}/api/oauth/introspect",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_HANDLERS),
        "token_endpoint_auth_methods_supported": list(PUBLIC_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(PUBLIC_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": list(SUPPORTED_METHODS),
        # RFC 9207 §3
        "authorization_response_iss_parameter_supported": True,
        # draft-ietf-oauth-client-id-metadata-document §5: an https client_id is fetched
        "client_id_metadata_document_supported": True,
        "service_documentation": f"{issuer}/docs/oauth",
    }
    if registration:
        # RFC 8414 §2, RFC 7591 §3
        metadata["registration_endpoint"] = f"{issuer}/api/oauth/register"
    return metadata
