"""The oauth stores' statements, each built once, on its first use: per request only their
parameters change (bench/RESULTS.md). RFC 6749 §4.1.2 (a code is used once), RFC 9700 §4.14.2
(refresh token rotation and family revocation), RFC 7662 §2.2 (introspection's ``username``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, insert, select, update

from piksend.oauth import types as o
from piksend.storage import tables as t
from piksend.storage.oauth.executor import BatchForm, Statement

CODE = t.AuthorizationCode.__table__
TOKEN = t.Token.__table__
CONSENT = t.Consent.__table__
PENDING = t.PendingAuthorization.__table__
CLIENT = t.Client.__table__
USER = t.User.__table__
RETRY = t.RefreshRetry.__table__


def _b(name: str) -> BindParameter[Any]:
    return bindparam(name)


def _values(columns: tuple[str, ...]) -> dict[str, BindParameter[Any]]:
    """``INSERT … VALUES`` binding each column to the parameter of its own name."""
    return {c: _b(c) for c in columns}


# The token with its owner's profile in one round trip: introspection needs the e-mail
# (RFC 7662 §2.2 "username"), GET /api/v1/me the whole profile.
_TOKEN_WITH_OWNER = (
    select(
        TOKEN,
        USER.c.email.label("owner_email"),
        USER.c.name.label("owner_name"),
        USER.c.avatar_url.label("owner_avatar_url"),
        USER.c.email_verified_at.label("owner_email_verified_at"),
        # The grant's start, for its absolute lifetime (oauth/grant_lifetime.py): same round trip.
        CONSENT.c.created_at.label("granted_at"),
    )
    .join_from(TOKEN, USER, USER.c.id == TOKEN.c.user_id, isouter=True)
    .join(CONSENT, CONSENT.c.id == TOKEN.c.consent_id, isouter=True)
)
_TOKEN_COLUMNS = (
    "digest",
    "kind",
    "consent_id",
    "client_id",
    "user_id",
    "scope",
    "issued_at",
    "expires_at",
    "resource",
)
_CODE_COLUMNS = (
    "digest",
    "consent_id",
    "client_id",
    "user_id",
    "redirect_uri",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "created_at",
    "expires_at",
    "resource",
)
_CONSENT_COLUMNS = ("id", "user_id", "client_id", "scope", "created_at")
_PENDING_COLUMNS = (
    "id",
    "client_id",
    "user_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "expires_at",
    "resource",
)
# RFC 9700 §4.14.2 with piksend.oauth.refresh_grace: a rotation's successor response, sealed
# (storage/oauth/sealed.py), read back only while its window lasts and its successor is unused.
_RETRY_COLUMNS = ("digest", "successor_digest", "consent_id", "client_id", "sealed", "expires_at")
_SUCCESSOR = TOKEN.alias("successor")

# Each statement is built on its first use (``__getattr__`` below, PEP 562) and kept from then on
# as a plain attribute of this module, so ``q.CLAIM_CODE`` costs what any module attribute does.
# Nothing is built at import: the mutation check (docs/testing.md) runs ``_b`` and ``_values``
# after it has selected a mutant, in the process that runs the mutant's tests.
_BUILD: dict[str, Callable[[], Statement]] = {
    "GET_CLIENT": lambda: Statement(
        select(CLIENT).where(CLIENT.c.id == _b("client_id")),
        batch=BatchForm(select(CLIENT), CLIENT.c.id, "client_id"),
    ),
    "FIND_TOKEN": lambda: Statement(
        _TOKEN_WITH_OWNER.where(TOKEN.c.digest == _b("digest")),
        batch=BatchForm(_TOKEN_WITH_OWNER, TOKEN.c.digest, "digest"),
    ),
    "FIND_CODE": lambda: Statement(
        select(CODE).where(CODE.c.digest == _b("digest")),
        batch=BatchForm(select(CODE), CODE.c.digest, "digest"),
    ),
    "GET_PROFILE": lambda: Statement(
        select(
            USER.c.id, USER.c.email, USER.c.name, USER.c.avatar_url, USER.c.email_verified_at
        ).where(USER.c.id == _b("uid"))
    ),
    "GUARD_CONSENT": lambda: Statement(
        update(CONSENT)
        .where(CONSENT.c.id == _b("b_consent_id"), CONSENT.c.revoked_at.is_(None))
        .values(last_used_at=_b("b_now"))
    ),
    "CLAIM_CODE": lambda: Statement(
        update(CODE)
        .where(
            CODE.c.digest == _b("b_digest"),
            CODE.c.used_at.is_(None),
            CODE.c.expires_at > _b("b_now"),
        )
        .values(used_at=_b("b_now"))
    ),
    "CLAIM_REFRESH": lambda: Statement(
        update(TOKEN)
        .where(
            TOKEN.c.digest == _b("b_digest"),
            TOKEN.c.kind == str(o.TokenKind.REFRESH),
            TOKEN.c.rotated_at.is_(None),
            TOKEN.c.revoked_at.is_(None),
            TOKEN.c.expires_at > _b("b_now"),
        )
        .values(rotated_at=_b("b_now"))
    ),
    "REVOKE_TOKEN": lambda: Statement(
        update(TOKEN)
        .where(TOKEN.c.digest == _b("b_digest"), TOKEN.c.revoked_at.is_(None))
        .values(revoked_at=_b("b_now"))
    ),
    # RFC 9700 §4.14.2 / RFC 6749 §4.1.2: the consent row first, then every token of the family.
    "REVOKE_CONSENT": lambda: Statement(
        update(CONSENT)
        .where(CONSENT.c.id == _b("b_consent_id"), CONSENT.c.revoked_at.is_(None))
        .values(revoked_at=_b("b_now"))
    ),
    "REVOKE_FAMILY": lambda: Statement(
        update(TOKEN)
        .where(TOKEN.c.consent_id == _b("b_consent_id"), TOKEN.c.revoked_at.is_(None))
        .values(revoked_at=_b("b_now"))
    ),
    "SAVE_TOKEN": lambda: Statement(insert(TOKEN).values(_values(_TOKEN_COLUMNS))),
    "SAVE_CODE": lambda: Statement(insert(CODE).values(_values(_CODE_COLUMNS))),
    "CREATE_CONSENT": lambda: Statement(insert(CONSENT).values(_values(_CONSENT_COLUMNS))),
    "SAVE_PENDING": lambda: Statement(insert(PENDING).values(_values(_PENDING_COLUMNS))),
    "GET_PENDING": lambda: Statement(
        select(PENDING).where(PENDING.c.id == _b("pid"), PENDING.c.user_id == _b("uid"))
    ),
    "TAKE_PENDING": lambda: Statement(
        delete(PENDING).where(PENDING.c.id == _b("pid"), PENDING.c.user_id == _b("uid"))
    ),
    "KEEP_RETRY": lambda: Statement(insert(RETRY).values(_values(_RETRY_COLUMNS))),
    "FIND_RETRY": lambda: Statement(
        select(RETRY.c.sealed)
        .join_from(RETRY, _SUCCESSOR, _SUCCESSOR.c.digest == RETRY.c.successor_digest)
        .where(
            RETRY.c.digest == _b("b_digest"),
            RETRY.c.expires_at > _b("b_now"),
            _SUCCESSOR.c.rotated_at.is_(None),
            _SUCCESSOR.c.revoked_at.is_(None),
        )
    ),
    "DROP_RETRY": lambda: Statement(
        delete(RETRY).where(RETRY.c.successor_digest == _b("b_successor"))
    ),
    "DROP_CONSENT_RETRIES": lambda: Statement(
        delete(RETRY).where(RETRY.c.consent_id == _b("b_consent_id"))
    ),
}


def __getattr__(name: str) -> Statement:
    """The statement ``name``, built now, on its first use, and kept as this module's attribute."""
    build = _BUILD.get(name)
    if build is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    statement = build()
    globals()[name] = statement
    return statement
