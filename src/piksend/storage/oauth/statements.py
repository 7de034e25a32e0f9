"""The oauth stores' statements, built once: per request only their parameters change
(bench/RESULTS.md). RFC 6749 §4.1.2 (a code is used once), RFC 9700 §4.14.2 (refresh token
rotation and family revocation), RFC 7662 §2.2 (introspection's ``username``)."""

from __future__ import annotations

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


GET_CLIENT = Statement(
    select(CLIENT).where(CLIENT.c.id == _b("client_id")),
    batch=BatchForm(select(CLIENT), CLIENT.c.id, "client_id"),
)
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
FIND_TOKEN = Statement(
    _TOKEN_WITH_OWNER.where(TOKEN.c.digest == _b("digest")),
    batch=BatchForm(_TOKEN_WITH_OWNER, TOKEN.c.digest, "digest"),
)
FIND_CODE = Statement(
    select(CODE).where(CODE.c.digest == _b("digest")),
    batch=BatchForm(select(CODE), CODE.c.digest, "digest"),
)
GET_PROFILE = Statement(
    select(USER.c.id, USER.c.email, USER.c.name, USER.c.avatar_url, USER.c.email_verified_at).where(
        USER.c.id == _b("uid")
    )
)
GUARD_CONSENT = Statement(
    update(CONSENT)
    .where(CONSENT.c.id == _b("b_consent_id"), CONSENT.c.revoked_at.is_(None))
    .values(last_used_at=_b("b_now"))
)
CLAIM_CODE = Statement(
    update(CODE)
    .where(
        CODE.c.digest == _b("b_digest"),
        CODE.c.used_at.is_(None),
        CODE.c.expires_at > _b("b_now"),
    )
    .values(used_at=_b("b_now"))
)
CLAIM_REFRESH = Statement(
    update(TOKEN)
    .where(
        TOKEN.c.digest == _b("b_digest"),
        TOKEN.c.kind == str(o.TokenKind.REFRESH),
        TOKEN.c.rotated_at.is_(None),
        TOKEN.c.revoked_at.is_(None),
        TOKEN.c.expires_at > _b("b_now"),
    )
    .values(rotated_at=_b("b_now"))
)
REVOKE_TOKEN = Statement(
    update(TOKEN)
    .where(TOKEN.c.digest == _b("b_digest"), TOKEN.c.revoked_at.is_(None))
    .values(revoked_at=_b("b_now"))
)
# RFC 9700 §4.14.2 / RFC 6749 §4.1.2: the consent row first, then every token of the family.
REVOKE_CONSENT = Statement(
    update(CONSENT)
    .where(CONSENT.c.id == _b("b_consent_id"), CONSENT.c.revoked_at.is_(None))
    .values(revoked_at=_b("b_now"))
)
REVOKE_FAMILY = Statement(
    update(TOKEN)
    .where(TOKEN.c.consent_id == _b("b_consent_id"), TOKEN.c.revoked_at.is_(None))
    .values(revoked_at=_b("b_now"))
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
SAVE_TOKEN = Statement(insert(TOKEN).values(_values(_TOKEN_COLUMNS)))
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
SAVE_CODE = Statement(insert(CODE).values(_values(_CODE_COLUMNS)))
_CONSENT_COLUMNS = ("id", "user_id", "client_id", "scope", "created_at")
CREATE_CONSENT = Statement(insert(CONSENT).values(_values(_CONSENT_COLUMNS)))
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
SAVE_PENDING = Statement(insert(PENDING).values(_values(_PENDING_COLUMNS)))
GET_PENDING = Statement(
    select(PENDING).where(PENDING.c.id == _b("pid"), PENDING.c.user_id == _b("uid"))
)
TAKE_PENDING = Statement(
    delete(PENDING).where(PENDING.c.id == _b("pid"), PENDING.c.user_id == _b("uid"))
)
# RFC 9700 §4.14.2 with piksend.oauth.refresh_grace: a rotation's successor response, sealed
# (storage/oauth/sealed.py), read back only while its window lasts and its successor is unused.
_RETRY_COLUMNS = ("digest", "successor_digest", "consent_id", "client_id", "sealed", "expires_at")
KEEP_RETRY = Statement(insert(RETRY).values(_values(_RETRY_COLUMNS)))
_SUCCESSOR = TOKEN.alias("successor")
FIND_RETRY = Statement(
    select(RETRY.c.sealed)
    .join_from(RETRY, _SUCCESSOR, _SUCCESSOR.c.digest == RETRY.c.successor_digest)
    .where(
        RETRY.c.digest == _b("b_digest"),
        RETRY.c.expires_at > _b("b_now"),
        _SUCCESSOR.c.rotated_at.is_(None),
        _SUCCESSOR.c.revoked_at.is_(None),
    )
)
DROP_RETRY = Statement(delete(RETRY).where(RETRY.c.successor_digest == _b("b_successor")))
DROP_CONSENT_RETRIES = Statement(delete(RETRY).where(RETRY.c.consent_id == _b("b_consent_id")))
