"""Resource indicators, RFC 8707 §2, §2.1, §2.2 (and RFC 9728 §3.1 for each resource's metadata URL).

This server protects two resources: its API (``<issuer>/api/v1``) and its MCP endpoint
(``<issuer>/mcp``). The rule (issue 13): a token is bound to exactly one resource, the one its
authorization request named (the API when none was named, as before resource indicators); each
protected resource accepts only tokens bound to itself and answers any other ``401
invalid_token`` ("The access token is not for this resource").

A recorded resource is an absolute URL, or :data:`API_PATH` for rows written before resource
indicators (migration 0007 gives them that path: it cannot know the issuer), which means the
API of the issuer that serves it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from piksend.oauth.errors import InvalidTargetError

API_PATH = "/api/v1"
MCP_PATH = "/mcp"
METADATA_PREFIX = "/.well-known/oauth-protected-resource"
NOT_FOR_THIS_RESOURCE = "The access token is not for this resource"
ONE_RESOURCE = "Name one resource: a token is for exactly one resource"

# The human name each resource has on the consent screen.
NAMES: Mapping[str, str] = {
    API_PATH: "the PikSend API",
    MCP_PATH: "PikSend for AI assistants (MCP)",
}


def api_resource(issuer: str) -> str:
    return issuer + API_PATH


def mcp_resource(issuer: str) -> str:
    return issuer + MCP_PATH


def known_resources(issuer: str) -> tuple[str, ...]:
    return (api_resource(issuer), mcp_resource(issuer))


def absolute(recorded: str, issuer: str) -> str:
    """The resource URL of a recorded resource (see the module docstring)."""
    return issuer + recorded if recorded == API_PATH else recorded


def is_bound_to(recorded: str, resource: str) -> bool:
    """Whether a token recorded with ``recorded`` is for ``resource`` (one of ours)."""
    if recorded == API_PATH:
        return resource.endswith(API_PATH)
    return recorded == resource


def path_of(resource: str, issuer: str) -> str:
    """The path below the issuer of one of our resources (``/api/v1`` or ``/mcp``)."""
    return absolute(resource, issuer).removeprefix(issuer)


def name_of(resource: str, issuer: str) -> str:
    return NAMES[path_of(resource, issuer)]


def metadata_url(resource: str) -> str:
    """RFC 9728 §3.1: the well-known path is inserted between the host and the resource's
    path; our resources' paths are ``/api/v1`` and ``/mcp`` below the issuer."""
    for path in (API_PATH, MCP_PATH):
        if resource.endswith(path):
            return resource.removesuffix(path) + METADATA_PREFIX + path
    raise ValueError(f"{resource} is not a resource of this server")


def parse_resource(values: Sequence[str], issuer: str) -> str | None:
    """The one ``resource`` of a request, or None when the request named none.

    RFC 8707 §2: an absolute URI without a fragment, one of this server's resources
    (§2: ``invalid_target`` otherwise); this server binds a token to one resource, so a request
    naming several is ``invalid_target`` too (§2 lets the server refuse such a combination).
    """
    named = [v for v in values if v != ""]  # RFC 6749 §3.1: an empty value is omitted
    if not named:
        return None
    if len(named) > 1:
        raise InvalidTargetError(ONE_RESOURCE)
    value = named[0]
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc or "#" in value:
        raise InvalidTargetError("resource must be an absolute URI without a fragment")
    if value not in known_resources(issuer):
        raise InvalidTargetError(
            f"Unknown resource; this server's resources are {' and '.join(known_resources(issuer))}"
        )
    return value


def narrowed(requested: str | None, recorded: str, issuer: str) -> str:
    """RFC 8707 §2.2: at the token endpoint a ``resource`` may repeat the grant's, or be
    omitted (the grant's is kept); it never names another, so it never widens the audience."""
    granted = absolute(recorded, issuer)
    if requested is not None and requested != granted:
        raise InvalidTargetError("resource must be the one the authorization was granted for")
    return granted
