"""A user's connected apps: the apps holding an unrevoked consent, and revoking one's access.

Revoking an app's access revokes each consent with every token born from it, through the OAuth
store, which owns the lock order (the consent row first, then its tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.oauth import grant_lifetime, scopes
from piksend.oauth.types import TokenPolicy
from piksend.storage import tables as t
from piksend.storage.oauth import SqlOAuthStore


@dataclass(frozen=True)
class ConnectedApp:
    client_id: str
    name: str
    logo_url: str | None
    website_url: str | None
    scopes: tuple[str, ...]
    authorized_at: datetime
    last_used_at: datetime | None
    # When the app's access ends unless it is used again (oauth/grant_lifetime.py).
    access_ends_at: datetime | None = None


async def list_connected_apps(
    session: AsyncSession, *, user_id: str, policy: TokenPolicy | None = None
) -> list[ConnectedApp]:
    """Apps holding an unrevoked consent of this user, with the union of granted scopes;
    with ``policy``, when each app's access ends (the latest end of its consents)."""
    rows = (
        await session.execute(
            select(t.Consent, t.Client)
            .join(t.Client, t.Client.id == t.Consent.client_id)
            .where(t.Consent.user_id == user_id, t.Consent.revoked_at.is_(None))
            .order_by(t.Consent.created_at)
        )
    ).all()
    by_client: dict[str, ConnectedApp] = {}
    for consent, client in rows:
        seen = by_client.get(client.id)
        granted = set(consent.scope.split()) | (set(seen.scopes) if seen else set())
        last = [d for d in (consent.last_used_at, seen and seen.last_used_at) if d]
        by_client[client.id] = ConnectedApp(
            client_id=client.id,
            name=client.name,
            logo_url=client.logo_url,
            website_url=client.website_url,
            scopes=scopes.canonical(granted),
            authorized_at=min(consent.created_at, seen.authorized_at)
            if seen
            else consent.created_at,
            last_used_at=max(last) if last else None,
            access_ends_at=_latest_end(consent, seen, policy),
        )
    return list(by_client.values())


def _latest_end(
    consent: t.Consent, seen: ConnectedApp | None, policy: TokenPolicy | None
) -> datetime | None:
    if policy is None:
        return None
    end = grant_lifetime.access_ends(
        policy, granted_at=consent.created_at, last_used_at=consent.last_used_at
    )
    earlier = seen.access_ends_at if seen else None
    return max(end, earlier) if earlier else end


async def revoke_access(
    session: AsyncSession, *, user_id: str, client_id: str, now: datetime
) -> int:
    """Revoke every consent this user gave the app, and their tokens; the number revoked."""
    # Locked as they are read, so a concurrent revocation waits here and then finds none.
    consent_ids = (
        await session.scalars(
            select(t.Consent.id)
            .where(
                t.Consent.user_id == user_id,
                t.Consent.client_id == client_id,
                t.Consent.revoked_at.is_(None),
            )
            .with_for_update()
        )
    ).all()
    store = SqlOAuthStore(session)
    for consent_id in consent_ids:
        await store.revoke_consent(consent_id, now)
    return len(consent_ids)
