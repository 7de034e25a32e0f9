from __future__ import annotations

from datetime import UTC, datetime

import pytest

from piksend.oauth import tokens
from piksend.oauth.types import Client, TokenPolicy
from tests.support.memory_store import MemoryOAuthStore

SECRET = "pks_cs_unit-test-secret"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryOAuthStore:
    s = MemoryOAuthStore()
    s.clients["client-1"] = Client(
        client_id="client-1",
        owner_id="usr_owner",
        name="Example",
        secret_digest=tokens.digest(SECRET),
        redirect_uris=("https://app.example.com/cb", "http://127.0.0.1:5000/cb"),
        scopes=("profile:read", "galleries:read", "galleries:write"),
    )
    s.clients["client-2"] = Client(
        client_id="client-2",
        owner_id="usr_owner",
        name="Other",
        secret_digest=tokens.digest(SECRET + "-2"),
        redirect_uris=("https://other.example.com/cb",),
        scopes=("profile:read",),
    )
    s.usernames["usr_alice"] = "alice@example.com"
    return s


@pytest.fixture
def policy() -> TokenPolicy:
    return TokenPolicy(issuer="https://auth.example.com")
