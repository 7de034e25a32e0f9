"""A grant's whole write as one PostgreSQL statement (GrantStore.redeem_code and
rotate_refresh_token). RFC 6749 §4.1.2 (a code is used once), RFC 9700 §4.14.2 (rotation).

Data-modifying CTEs, each step conditional on the one before through an uncorrelated EXISTS,
which PostgreSQL evaluates before the next step reads a row; so the order of row locks is the
steps' order (the consent before any token row), and the statement is atomic on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import text

from piksend.oauth import types as o
from piksend.storage.oauth.executor import AtomicWriter, Statement

_CODE_CLAIMED = """claimed AS (
    UPDATE authorization_codes SET used_at = :now
    WHERE digest = :digest AND used_at IS NULL AND expires_at > :now
    RETURNING digest
)"""
_CONSENT_GUARDED_AFTER_CLAIM = """guarded AS (
    UPDATE consents SET last_used_at = :now
    WHERE id = :consent_id AND revoked_at IS NULL AND EXISTS (SELECT FROM claimed)
    RETURNING id
)"""
_CONSENT_GUARDED = """guarded AS (
    UPDATE consents SET last_used_at = :now
    WHERE id = :consent_id AND revoked_at IS NULL
    RETURNING id
)"""
_REFRESH_CLAIMED_AFTER_GUARD = """claimed AS (
    UPDATE tokens SET rotated_at = :now
    WHERE digest = :digest AND kind = 'refresh' AND rotated_at IS NULL
      AND revoked_at IS NULL AND expires_at > :now AND EXISTS (SELECT FROM guarded)
    RETURNING digest
)"""
_SAVED_AFTER = """saved AS (
    INSERT INTO tokens (digest, kind, consent_id, client_id, user_id, scope, issued_at,
                        expires_at, resource)
    SELECT * FROM unnest(
        CAST(:n_digest AS text[]), CAST(:n_kind AS text[]), CAST(:n_consent_id AS text[]),
        CAST(:n_client_id AS text[]), CAST(:n_user_id AS text[]), CAST(:n_scope AS text[]),
        CAST(:n_issued_at AS timestamptz[]), CAST(:n_expires_at AS timestamptz[]),
        CAST(:n_resource AS text[]))
    WHERE EXISTS (SELECT FROM {after})
    RETURNING digest
)"""
# RFC 9700 §4.14.2 with piksend.oauth.refresh_grace: the claim ends the grace of the token this
# one succeeded (its successor is now used), and the new pair's response is kept, sealed, for
# retries of this one. The k_ parameters are all NULL when grace retries are off.
_RETRIES_AFTER_ROTATION = """dropped AS (
    DELETE FROM refresh_retries
    WHERE successor_digest = :digest AND EXISTS (SELECT FROM claimed)
    RETURNING digest
),
kept AS (
    INSERT INTO refresh_retries (digest, successor_digest, consent_id, client_id, sealed,
                                 expires_at)
    SELECT CAST(:k_digest AS text), CAST(:k_successor_digest AS text),
           CAST(:k_consent_id AS text), CAST(:k_client_id AS text), CAST(:k_sealed AS bytea),
           CAST(:k_expires_at AS timestamptz)
    WHERE EXISTS (SELECT FROM saved) AND CAST(:k_digest AS text) IS NOT NULL
    RETURNING digest
)"""
_OUTCOME = """SELECT (SELECT count(*) FROM claimed) AS claimed,
       (SELECT count(*) FROM guarded) AS guarded, (SELECT count(*) FROM saved) AS saved"""


def _grant_write_statement(first: str, second: str, *after: str) -> Statement:
    """``first``, then ``second`` if ``first`` changed a row, then the new tokens if ``second``
    did (then ``after``, each conditional on its own); and how far it got. The pieces are the
    constants above: no value is ever spliced in."""
    saved = _SAVED_AFTER.format(after=second.split(" ", 1)[0])
    steps = ",\n".join((first, second, saved, *after))
    return Statement(text(f"WITH {steps}\n{_OUTCOME}"))


def _new_columns(new: tuple[o.TokenRecord, ...]) -> dict[str, list[Any]]:
    return {
        "n_digest": [r.digest for r in new],
        "n_kind": [str(r.kind) for r in new],
        "n_consent_id": [r.consent_id for r in new],
        "n_client_id": [r.client_id for r in new],
        "n_user_id": [r.user_id for r in new],
        "n_scope": [" ".join(r.scope) for r in new],
        "n_issued_at": [r.issued_at for r in new],
        "n_expires_at": [r.expires_at for r in new],
        "n_resource": [r.resource for r in new],
    }


@dataclass(frozen=True)
class GrantWrite:
    """One grant's write: the pieces of its statement (``_grant_write_statement``'s arguments),
    and its steps in the order they run."""

    pieces: tuple[str, ...]
    order: tuple[tuple[str, o.Transition], ...]

    @cached_property
    def statement(self) -> Statement:
        """Built on first use, then kept: per request only the parameters change. Nothing is
        built at import, so the mutation check (docs/testing.md) runs the builder after it has
        selected a mutant, in the process that runs the mutant's tests."""
        return _grant_write_statement(*self.pieces)

    async def run(
        self,
        writer: AtomicWriter,
        digest: str,
        consent_id: str,
        new: tuple[o.TokenRecord, ...],
        now: datetime,
        extra: Mapping[str, Any] | None = None,
    ) -> o.Transition:
        """The first step that changed no row names the outcome (each step runs only if the
        one before did)."""
        params = {"digest": digest, "consent_id": consent_id, "now": now, **_new_columns(new)}
        params.update(extra or {})
        row = await writer.atomic_row(self.statement, params)
        for step, outcome in self.order:
            if not row[step]:
                return outcome
        return o.Transition.DONE


REDEEM_CODE = GrantWrite(
    (_CODE_CLAIMED, _CONSENT_GUARDED_AFTER_CLAIM),
    (("claimed", o.Transition.CLAIM_LOST), ("guarded", o.Transition.CONSENT_REVOKED)),
)
ROTATE_REFRESH_TOKEN = GrantWrite(
    (_CONSENT_GUARDED, _REFRESH_CLAIMED_AFTER_GUARD, _RETRIES_AFTER_ROTATION),
    (("guarded", o.Transition.CONSENT_REVOKED), ("claimed", o.Transition.CLAIM_LOST)),
)
