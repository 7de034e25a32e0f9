"""RFC 7662 §2.2: the introspection response, member by member (the mutation check's killers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from piksend.oauth import tokens
from piksend.oauth.errors import InvalidRequestError
from piksend.oauth.introspection import introspect
from piksend.oauth.types import Profile, TokenKind, TokenRecord
from tests.unit.conftest import NOW

ISSUER = "https://auth.example.com"
ACCESS = "pks_at_introspected"
REFRESH = "pks_rt_introspected"


class Users:
    """A user directory with one verified owner, and nobody else."""

    async def get_profile(self, user_id: str) -> Profile | None:
        if user_id != "usr_alice":
            return None
        return Profile(id=user_id, email="alice@example.com", name="Alice", email_verified=True)

    async def get_username(self, user_id: str) -> str | None:
        return None


def record(secret: str, kind: TokenKind = TokenKind.ACCESS, **overrides) -> TokenRecord:
    base = TokenRecord(
        digest=tokens.digest(secret),
        kind=kind,
        consent_id="cns_1",
        client_id="client-1",
        user_id="usr_alice",
        scope=("profile:read", "galleries:read"),
        issued_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(minutes=55),
    )
    return replace(base, **overrides)


async def ask(store, params, client_id="client-1", now=NOW):
    return await introspect(
        params, store.clients[client_id], grants=store, users=Users(), issuer=ISSUER, now=now
    )


async def test_an_active_access_token_reads_every_member_exactly(store):
    await store.save_tokens(record(ACCESS))
    assert await ask(store, {"token": ACCESS}) == {
        "active": True,
        "scope": "profile:read galleries:read",
        "client_id": "client-1",
        "username": "alice@example.com",
        "email_verified": True,
        "sub": "usr_alice",
        "token_type": "Bearer",
        "exp": int((NOW + timedelta(minutes=55)).timestamp()),
        "iat": int((NOW - timedelta(minutes=5)).timestamp()),
        "iss": ISSUER,
        "aud": ISSUER + "/api/v1",
    }


async def test_a_refresh_token_of_an_owner_gone_reads_no_username_and_unverified(store):
    await store.save_tokens(record(REFRESH, TokenKind.REFRESH, user_id="usr_gone"))
    body = await ask(store, {"token": REFRESH})
    assert (body["token_type"], body["username"], body["email_verified"], body["sub"]) == (
        "refresh_token",
        None,
        False,
        "usr_gone",
    )


async def test_a_token_at_its_expiry_instant_reads_inactive(store):
    await store.save_tokens(record(ACCESS))
    assert await ask(store, {"token": ACCESS}, now=NOW + timedelta(minutes=55)) == {"active": False}


async def test_a_revoked_or_rotated_token_reads_inactive(store):
    await store.save_tokens(record(ACCESS, revoked_at=NOW), record(REFRESH, rotated_at=NOW))
    assert await ask(store, {"token": ACCESS}) == {"active": False}
    assert await ask(store, {"token": REFRESH}) == {"active": False}


async def test_an_unknown_token_reads_inactive(store):
    assert await ask(store, {"token": "pks_at_never-issued"}) == {"active": False}


@pytest.mark.parametrize("params", [{}, {"token": ""}])
async def test_a_missing_token_is_an_invalid_request_saying_so(store, params):
    with pytest.raises(InvalidRequestError) as exc:
        await ask(store, params)
    assert exc.value.description == "token is required"
