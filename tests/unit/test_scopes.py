"""Scopes: RFC 6749 §3.3 grammar and the eight PikSend scopes of the docs."""

from __future__ import annotations

import pytest

from piksend.oauth import scopes
from piksend.oauth.errors import InvalidScopeError


def test_the_eight_documented_scopes_with_their_descriptions():
    assert scopes.SCOPES == {
        "profile:read": "Read basic profile information (name, email, avatar)",
        "galleries:read": "View your galleries and their settings",
        "galleries:write": "Create, update, and delete galleries",
        "images:read": "View images in your galleries",
        "images:write": "Upload, update, and delete images",
        "stats:read": "View analytics and statistics",
        "webhooks:read": "View webhook configurations",
        "webhooks:write": "Create, update, and delete webhooks",
    }


def test_parse_orders_canonically_and_drops_duplicates():
    assert scopes.parse_scope("galleries:read  profile:read galleries:read") == (
        "profile:read",
        "galleries:read",
    )


def test_parse_rejects_characters_outside_the_grammar():
    with pytest.raises(InvalidScopeError):
        scopes.parse_scope('profile:read "quoted"')


def test_unknown_scope_is_invalid_scope():
    with pytest.raises(InvalidScopeError) as exc:
        scopes.require_allowed(("admin",), ("profile:read",))
    assert exc.value.description == "Unknown scope: admin"


def test_scope_not_registered_for_the_app_is_invalid_scope():
    with pytest.raises(InvalidScopeError) as exc:
        scopes.require_allowed(("profile:read", "stats:read"), ("profile:read",))
    assert exc.value.description == "Scope not registered for this application: stats:read"
