"""Rows read by the oauth stores, as the oauth core's frozen dataclasses.

A row is a SQLAlchemy ``RowMapping`` or an asyncpg ``Record``: both are read by column name.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from piksend.oauth import types as o


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


def _scope(raw: str) -> tuple[str, ...]:
    return tuple(raw.split()) if raw else ()


def client_from_row(row: Row) -> o.Client:
    uris = row["redirect_uris"] or ()
    if isinstance(uris, str):  # asyncpg hands a json column over as its text
        uris = json.loads(uris)
    return o.Client(
        client_id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        secret_digest=row["secret_digest"],
        redirect_uris=tuple(uris),
        scopes=_scope(row["scopes"]),
        client_type=o.ClientType(row["client_type"]),
        description=row["description"] or "",
        logo_url=row["logo_url"],
        website_url=row["website_url"],
        previous_secret_digest=row["previous_secret_digest"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
        registered_via=o.RegisteredVia(row["registered_via"]),
        secret_used_at=row["secret_used_at"],
        previous_secret_used_at=row["previous_secret_used_at"],
    )


def pending_from_row(row: Row) -> o.PendingAuthorization:
    return o.PendingAuthorization(
        id=row["id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        redirect_uri=row["redirect_uri"],
        scope=_scope(row["scope"]),
        state=row["state"],
        code_challenge=row["code_challenge"],
        code_challenge_method=row["code_challenge_method"],
        expires_at=row["expires_at"],
        resource=row["resource"],
    )


def code_from_row(row: Row) -> o.AuthorizationCode:
    return o.AuthorizationCode(
        digest=row["digest"],
        consent_id=row["consent_id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        redirect_uri=row["redirect_uri"],
        scope=_scope(row["scope"]),
        code_challenge=row["code_challenge"],
        code_challenge_method=row["code_challenge_method"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        resource=row["resource"],
    )


def token_from_row(row: Row) -> o.TokenRecord:
    return o.TokenRecord(
        digest=row["digest"],
        kind=o.TokenKind(row["kind"]),
        consent_id=row["consent_id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        scope=_scope(row["scope"]),
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        rotated_at=row["rotated_at"],
        resource=row["resource"],
        granted_at=row["granted_at"],
    )


def owner_from_token_row(row: Row) -> o.Profile | None:
    """The owner's profile read alongside a token (``statements.FIND_TOKEN``); None when the
    user is gone."""
    if row["owner_email"] is None:
        return None
    return o.Profile(
        id=row["user_id"],
        email=row["owner_email"],
        name=row["owner_name"],
        avatar_url=row["owner_avatar_url"],
        email_verified=row["owner_email_verified_at"] is not None,
    )


def profile_from_row(row: Row) -> o.Profile:
    return o.Profile(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        avatar_url=row["avatar_url"],
        email_verified=row["email_verified_at"] is not None,
    )
