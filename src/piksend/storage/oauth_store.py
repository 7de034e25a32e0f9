"""Compatibility shim: the oauth stores now live in the piksend.storage.oauth package.

Removed when the imports are rewritten to the new paths.
"""

from piksend.storage.oauth.executor import (
    AtomicWriter,
    BatchForm,
    Executor,
    SessionExecutor,
    Statement,
)
from piksend.storage.oauth.rows import client_from_row
from piksend.storage.oauth.store import SqlOAuthStore

__all__ = [
    "AtomicWriter",
    "BatchForm",
    "Executor",
    "SessionExecutor",
    "SqlOAuthStore",
    "Statement",
    "client_from_row",
]
