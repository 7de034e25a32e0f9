"""Compatibility shim: the asyncpg fast path is now piksend.storage.oauth.fastpath.

Removed when the imports are rewritten to the new path.
"""

from piksend.storage.oauth.fastpath import (
    MAX_BATCH,
    AsyncpgExecutor,
    Coalescer,
    FastPath,
    asyncpg_dsn,
)

__all__ = ["MAX_BATCH", "AsyncpgExecutor", "Coalescer", "FastPath", "asyncpg_dsn"]
