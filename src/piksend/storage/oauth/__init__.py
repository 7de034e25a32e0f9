"""The SQL side of the oauth core's store Protocols: ``SqlOAuthStore`` over an executor, on a
SQLAlchemy session or, for the hot endpoints on PostgreSQL, straight on asyncpg (``FastPath``)."""

from piksend.storage.oauth.executor import (
    AtomicWriter,
    BatchForm,
    Executor,
    SessionExecutor,
    Statement,
)
from piksend.storage.oauth.fastpath import MAX_BATCH, AsyncpgExecutor, FastPath
from piksend.storage.oauth.store import SqlOAuthStore

__all__ = [
    "MAX_BATCH",
    "AsyncpgExecutor",
    "AtomicWriter",
    "BatchForm",
    "Executor",
    "FastPath",
    "SessionExecutor",
    "SqlOAuthStore",
    "Statement",
]
