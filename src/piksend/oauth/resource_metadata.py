"""Protected resource metadata, RFC 9728 §2 (the members) and §3 (where each document is).

Each of this server's resources (``piksend.oauth.resources``) has one document, served at its
RFC 9728 §3.1 well-known URL; a client finds it through the ``resource_metadata`` of a 401
challenge (§5.1) and learns from it which authorization server issues tokens for the resource.
"""

from __future__ import annotations

from collections.abc import Mapping

from piksend.oauth import resources
from piksend.oauth.scopes import SCOPES

# RFC 9728 §2 ``resource_name``: the resource as an end user reads it.
TITLES: Mapping[str, str] = {
    resources.API_PATH: "PikSend API",
    resources.MCP_PATH: "PikSend for AI assistants (MCP)",
}


def resource_metadata(resource: str, issuer: str) -> dict[str, object]:
    """The document for ``resource``, one of ``resources.known_resources(issuer)``.

    RFC 9728 §3.3: ``resource`` is exactly the identifier the well-known URL was formed from.
    """
    return {
        "resource": resource,
        # §2: tokens for this resource come from this server (RFC 8414 metadata at its issuer).
        "authorization_servers": [issuer],
        # Every PikSend scope: each API operation and each MCP tool needs one of them.
        "scopes_supported": list(SCOPES),
        # RFC 6750 §2.1: the Authorization header only (bearer.extract_token).
        "bearer_methods_supported": ["header"],
        "resource_name": TITLES[resources.path_of(resource, issuer)],
        "resource_documentation": f"{issuer}/docs/oauth",
    }
