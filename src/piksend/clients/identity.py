"""Who stands behind an app, as the consent screen and app pages show it (issue 15, item 8).

The developer's account name (an app that registered itself or is a client ID metadata
document has none), whether the operator verified the app under its current name
(``piksend apps verify``), and where piksend serves its logo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from piksend.clients.logos import logo_path
from piksend.errors import NotFound
from piksend.oauth.types import Client
from piksend.storage import tables as t


@dataclass(frozen=True)
class AppIdentity:
    owner_name: str | None
    verified: bool
    logo_src: str


async def identity_of(session: AsyncSession, client: Client) -> AppIdentity:
    """``client`` as the authorization request saw it; its row says who owns it."""
    row = await session.get(t.Client, client.client_id)
    owner = await session.get(t.User, row.owner_id) if row is not None and row.owner_id else None
    return AppIdentity(
        owner_name=owner.name if owner is not None else None,
        verified=row is not None and row.verified_at is not None,
        logo_src=logo_path(client.client_id, client.name, client.logo_url),
    )


async def verify(session: AsyncSession, client_id: str, now: datetime) -> str:
    """The operator vouches for the app under its current name; returns that name."""
    client = await session.get(t.Client, client_id) if len(client_id) <= 255 else None
    if client is None:
        raise NotFound(f"No app with client_id {client_id[:64]}")
    client.verified_at = now
    await session.flush()
    return client.name
