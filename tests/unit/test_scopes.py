"""Scopes: RFC 6749 §3.3 grammar and the eight PikSend scopes of the docs."""

from __future__ import annotations

import pytest

from piksend.oauth import scopes
from piksend.oauth.errors import InvalidScopeError
from piksend.oauth.scopes import parse_scope, require_known


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


# Exact rules the mutation check found unpinned (RFC 6749 §3.3).


def test_a_tab_is_not_a_scope_separator_but_a_refused_character():
    with pytest.raises(InvalidScopeError) as exc:
        parse_scope("profile:read\tgalleries:read")
    assert exc.value.description == "scope contains characters that are not allowed"


def test_a_token_using_every_allowed_character_parses():
    every = "".join(sorted(chr(c) for c in range(0x21, 0x7F) if c not in (0x22, 0x5C)))
    assert parse_scope(every) == (every,)


def test_unknown_tokens_sort_after_the_catalogue_by_name():
    assert parse_scope("zz:read profile:read aa:read") == ("profile:read", "aa:read", "zz:read")


def test_every_unknown_scope_is_named_space_separated():
    with pytest.raises(InvalidScopeError) as exc:
        require_known(("aa:read", "zz:read"))
    assert exc.value.description == "Unknown scope: aa:read zz:read"


def test_every_scope_not_registered_for_the_app_is_named_space_separated():
    # RFC 6749 §3.3: scopes are space-delimited; the error names each one the app lacks.
    with pytest.raises(InvalidScopeError) as exc:
        scopes.require_allowed(("profile:read", "stats:read", "webhooks:read"), ("profile:read",))
    assert exc.value.description == (
        "Scope not registered for this application: stats:read webhooks:read"
    )
