"""How a unit of work ends: committed on success and on an expected OAuth error (a replayed
code must persist the revocation it triggers, RFC 6749 §4.1.2), rolled back on anything else.

The one place this is decided, for the SQLAlchemy sessions (``engine.Database``) and the
asyncpg units of the hot endpoints (``oauth.fastpath``) alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from piksend.oauth.errors import OAuthError


class Transaction(Protocol):
    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


@asynccontextmanager
async def settled(transaction: Transaction) -> AsyncIterator[None]:
    """Run the block, then commit or roll back ``transaction`` by how the block ended."""
    try:
        yield
    except OAuthError:
        await transaction.commit()
        raise
    except BaseException:
        await transaction.rollback()
        raise
    else:
        await transaction.commit()
