"""A grant's write keeps each new token whole, on every store (on PostgreSQL one statement,
storage/oauth/grant_writes.py). RFC 6749 §3.3 (scope: a list of space-delimited strings)."""

from __future__ import annotations

from dataclasses import replace

from piksend.oauth.types import TokenKind, Transition
from tests.storage.test_store_contract import NEW, NOW, code, consent, new_pair, store, token

__all__ = ["store"]  # the store contract's fixture: every store, SQL and the in-memory fake

SCOPE = ("profile:read", "gallery:read", "gallery:write")


async def test_tokens_keep_every_scope_through_every_grant_write(store):
    cid = await consent(store)
    await store.save_code(replace(code(cid), scope=SCOPE), NOW)
    pair = tuple(replace(r, scope=SCOPE) for r in new_pair(cid))
    assert await store.redeem_code("c" * 64, cid, pair, NOW) is Transition.DONE
    assert [(await store.find_token(d)).scope for d in NEW] == [SCOPE, SCOPE]
    rotated = (
        replace(token(cid, "6" * 64), scope=SCOPE),
        replace(token(cid, "7" * 64, TokenKind.REFRESH), scope=SCOPE),
    )
    assert await store.rotate_refresh_token(NEW[1], cid, rotated, NOW) is Transition.DONE
    assert [(await store.find_token(d)).scope for d in ("6" * 64, "7" * 64)] == [SCOPE, SCOPE]
