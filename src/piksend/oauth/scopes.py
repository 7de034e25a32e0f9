"""Scopes: RFC 6749 §3.3 (space-delimited, case-sensitive) and the eight PikSend scopes."""

from __future__ import annotations

from collections.abc import Iterable

from piksend.oauth.errors import InvalidScopeError

SCOPES: dict[str, str] = {
    "profile:read": "Read basic profile information (name, email, avatar)",
    "galleries:read": "View your galleries and their settings",
    "galleries:write": "Create, update, and delete galleries",
    "images:read": "View images in your galleries",
    "images:write": "Upload, update, and delete images",
    "stats:read": "View analytics and statistics",
    "webhooks:read": "View webhook configurations",
    "webhooks:write": "Create, update, and delete webhooks",
}

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F) if c not in (0x22, 0x5C))


def parse_scope(raw: str | None) -> tuple[str, ...]:
    """Split a scope string into its tokens in canonical (catalogue) order, without duplicates.

    RFC 6749 §3.3: tokens are separated by single spaces; we accept runs of spaces, which
    some libraries produce, but reject any character outside the scope-token grammar.
    """
    if raw is None:
        return ()
    tokens = [t for t in raw.split(" ") if t]
    for token in tokens:
        if not set(token) <= _SCOPE_TOKEN_CHARS:
            raise InvalidScopeError("scope contains characters that are not allowed")
    return canonical(tokens)


def canonical(tokens: Iterable[str]) -> tuple[str, ...]:
    order = {name: i for i, name in enumerate(SCOPES)}
    unique = set(tokens)
    return tuple(sorted(unique, key=lambda t: (order.get(t, len(order)), t)))


def require_known(tokens: tuple[str, ...]) -> None:
    unknown = [t for t in tokens if t not in SCOPES]
    if unknown:
        raise InvalidScopeError(f"Unknown scope: {' '.join(unknown)}")


def require_allowed(requested: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """RFC 6749 §3.3: a client may ask only for scopes it registered."""
    require_known(requested)
    extra = [t for t in requested if t not in allowed]
    if extra:
        raise InvalidScopeError(f"Scope not registered for this application: {' '.join(extra)}")
