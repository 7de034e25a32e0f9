"""The app registry: registering, listing, editing, rotating the secret of and deleting apps.

An app is a confidential client (RFC 6749 §2.1) authenticated with a client secret (§2.3.1),
returned once, when it is made, and stored only as its SHA-256 digest; or a public client, which
has no secret at all. Changing the type is an explicit action: making an app public deletes its
secrets, making it confidential issues one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.clients.validation import AppFields, cleaned
from piksend.errors import NotFound, ValidationError
from piksend.oauth import redirect_uris, tokens
from piksend.oauth.types import ClientType
from piksend.storage import tables as t

MAX_GRACE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class SecretFacts:
    """What the app page shows of one live secret; nothing here authenticates. ``None`` for a
    fact made before it was recorded (migration 0019)."""

    current: bool  # False: the previous secret, accepted until ``expires_at``
    created_at: datetime | None
    last_four: str | None
    used_at: datetime | None  # to within an hour (oauth/client_auth.py SECRET_USE_RESOLUTION)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class App:
    client_id: str
    owner_id: str | None  # None only for an app that registered itself (clients.dynamic)
    name: str
    description: str
    logo_url: str | None
    website_url: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None = None
    client_type: ClientType = ClientType.CONFIDENTIAL
    verified: bool = False  # by the operator (`piksend apps verify`, issue 15)
    secrets: tuple[SecretFacts, ...] = ()  # the live ones, the current one first

    @property
    def token_endpoint_auth_method(self) -> str:
        return "none" if self.client_type is ClientType.PUBLIC else "client_secret_basic"

    def fields(self) -> AppFields:
        """The registration fields as they stand, the starting point of an edit."""
        return AppFields(
            name=self.name,
            redirect_uris=self.redirect_uris,
            scopes=self.scopes,
            description=self.description,
            logo_url=self.logo_url,
            website_url=self.website_url,
        )


def _app(row: t.Client) -> App:
    return App(
        client_id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        description=row.description or "",
        logo_url=row.logo_url,
        website_url=row.website_url,
        redirect_uris=tuple(row.redirect_uris or ()),
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        updated_at=row.updated_at,
        previous_secret_expires_at=row.previous_secret_expires_at
        if row.previous_secret_digest
        else None,
        client_type=ClientType(row.client_type),
        verified=row.verified_at is not None,
        secrets=_secret_facts(row),
    )


def _secret_facts(row: t.Client) -> tuple[SecretFacts, ...]:
    facts = []
    if row.secret_digest:
        facts.append(
            SecretFacts(True, row.secret_created_at, row.secret_last_four, row.secret_used_at)
        )
    if row.previous_secret_digest and row.previous_secret_expires_at:
        facts.append(
            SecretFacts(
                False,
                row.previous_secret_created_at,
                row.previous_secret_last_four,
                row.previous_secret_used_at,
                row.previous_secret_expires_at,
            )
        )
    return tuple(facts)


def _set_secret(row: t.Client, secret: str | None, now: datetime) -> None:
    """The current secret (its digest and facts), or none."""
    row.secret_digest = None if secret is None else tokens.digest(secret)
    row.secret_created_at = None if secret is None else now
    row.secret_last_four = None if secret is None else secret[-4:]
    row.secret_used_at = None


def _drop_previous(row: t.Client) -> None:
    row.previous_secret_digest = None
    row.previous_secret_expires_at = None
    row.previous_secret_created_at = None
    row.previous_secret_last_four = None
    row.previous_secret_used_at = None


async def create_app(
    session: AsyncSession,
    *,
    owner_id: str,
    fields: AppFields,
    now: datetime,
    client_type: ClientType = ClientType.CONFIDENTIAL,
) -> tuple[App, str | None]:
    """Register an app; returns it with its client secret, which is never stored or shown again
    (None for a public app, which has none)."""
    fields = cleaned(fields, client_type=client_type)
    public = client_type is ClientType.PUBLIC
    secret = None if public else tokens.generate(tokens.Prefix.CLIENT_SECRET)
    row = t.Client(
        id=tokens.generate_client_id(),
        owner_id=owner_id,
        name=fields.name,
        description=fields.description,
        logo_url=fields.logo_url,
        website_url=fields.website_url,
        redirect_uris=list(fields.redirect_uris),
        scopes=" ".join(fields.scopes),
        client_type=client_type.value,
        created_at=now,
        updated_at=now,
    )
    _set_secret(row, secret, now)
    session.add(row)
    await session.flush()
    return _app(row), secret


async def _owned(session: AsyncSession, owner_id: str, client_id: str) -> t.Client:
    row = await session.get(t.Client, client_id) if len(client_id) <= 64 else None
    if row is None or row.owner_id != owner_id:
        raise NotFound("No such application")
    return row


async def get_app(session: AsyncSession, *, owner_id: str, client_id: str) -> App:
    return _app(await _owned(session, owner_id, client_id))


async def list_apps(session: AsyncSession, *, owner_id: str) -> list[App]:
    rows = await session.scalars(
        select(t.Client).where(t.Client.owner_id == owner_id).order_by(t.Client.created_at)
    )
    return [_app(r) for r in rows]


async def find_app(session: AsyncSession, *, client_id: str) -> App:
    """Any app by its client_id, whoever owns it (the operator's ``piksend apps show``)."""
    row = await session.get(t.Client, client_id) if len(client_id) <= 64 else None
    if row is None:
        raise NotFound(f"No app with client_id {client_id[:64]}")
    return _app(row)


async def all_apps(session: AsyncSession) -> list[App]:
    """Every app, oldest first, including those no person owns (``piksend apps list``)."""
    rows = await session.scalars(select(t.Client).order_by(t.Client.created_at, t.Client.id))
    return [_app(r) for r in rows]


async def update_app(
    session: AsyncSession, *, owner_id: str, client_id: str, fields: AppFields, now: datetime
) -> App:
    row = await _owned(session, owner_id, client_id)
    # Issue 15: only an app the operator verified may carry PikSend's name.
    verified = row.verified_at is not None
    fields = cleaned(fields, client_type=ClientType(row.client_type), verified=verified)
    row.name, row.description = fields.name, fields.description
    row.logo_url, row.website_url = fields.logo_url, fields.website_url
    row.redirect_uris, row.scopes = list(fields.redirect_uris), " ".join(fields.scopes)
    row.updated_at = now
    await session.flush()
    return _app(row)


async def add_redirect_uri(
    session: AsyncSession, *, owner_id: str, client_id: str, uri: str, now: datetime
) -> App:
    """Register one more redirect URI (the built-in test callback); a no-op when present."""
    current = await get_app(session, owner_id=owner_id, client_id=client_id)
    if uri in current.redirect_uris:
        return current
    fields = replace(current.fields(), redirect_uris=(*current.redirect_uris, uri))
    return await update_app(session, owner_id=owner_id, client_id=client_id, fields=fields, now=now)


async def rotate_secret(
    session: AsyncSession,
    *,
    owner_id: str,
    client_id: str,
    now: datetime,
    grace_seconds: int = 0,
) -> str:
    """A new client secret; the old one works for ``grace_seconds`` more (0: stops at once)."""
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise ValidationError("Grace period must be between 0 seconds and 7 days")
    row = await _owned(session, owner_id, client_id)
    if row.client_type == ClientType.PUBLIC:
        raise ValidationError(
            "A public app has no client secret to rotate; make it confidential to issue one"
        )
    secret = tokens.generate(tokens.Prefix.CLIENT_SECRET)
    if grace_seconds:
        row.previous_secret_digest = row.secret_digest
        row.previous_secret_expires_at = now + timedelta(seconds=grace_seconds)
        row.previous_secret_created_at = row.secret_created_at
        row.previous_secret_last_four = row.secret_last_four
        row.previous_secret_used_at = row.secret_used_at
    else:
        _drop_previous(row)
    _set_secret(row, secret, now)
    row.updated_at = now
    await session.flush()
    return secret


async def make_public(
    session: AsyncSession, *, owner_id: str, client_id: str, now: datetime
) -> App:
    """Make the app a public client: its current and previous secrets are deleted at once, so
    a server still sending one is refused from now on (RFC 6749 §2.1)."""
    row = await _owned(session, owner_id, client_id)
    row.client_type = ClientType.PUBLIC.value
    _set_secret(row, None, now)
    _drop_previous(row)
    row.updated_at = now
    await session.flush()
    return _app(row)


async def make_confidential(
    session: AsyncSession, *, owner_id: str, client_id: str, now: datetime
) -> str:
    """Make the app a confidential client; returns its new secret, which is shown only once.
    Refused while a private-use redirect URI is registered (RFC 8252 §7.1: native apps only)."""
    row = await _owned(session, owner_id, client_id)
    if row.client_type == ClientType.CONFIDENTIAL:
        raise ValidationError(
            "This app is already confidential; rotate its secret to get a new one",
            field="client_type",
        )
    cleaned(
        _app(row).fields(),
        client_type=ClientType.CONFIDENTIAL,
        verified=row.verified_at is not None,
    )
    secret = tokens.generate(tokens.Prefix.CLIENT_SECRET)
    row.client_type = ClientType.CONFIDENTIAL.value
    _set_secret(row, secret, now)
    _drop_previous(row)
    row.updated_at = now
    await session.flush()
    return secret


async def delete_app(session: AsyncSession, *, owner_id: str, client_id: str) -> None:
    """Delete the app; its consents, codes and tokens go with it (ON DELETE CASCADE)."""
    row = await _owned(session, owner_id, client_id)
    # Explicit deletes as well, so nothing depends on the backend enforcing cascades.
    consent_ids = select(t.Consent.id).where(t.Consent.client_id == row.id)
    await session.execute(delete(t.Token).where(t.Token.consent_id.in_(consent_ids)))
    await session.execute(
        delete(t.AuthorizationCode).where(t.AuthorizationCode.consent_id.in_(consent_ids))
    )
    await session.execute(delete(t.Consent).where(t.Consent.client_id == row.id))
    await session.execute(
        delete(t.PendingAuthorization).where(t.PendingAuthorization.client_id == row.id)
    )
    await session.delete(row)
    await session.flush()


async def count_active_tokens(session: AsyncSession, *, client_id: str, now: datetime) -> int:
    """Unexpired, unrevoked tokens issued to the app (shown before a rotation or a deletion)."""
    count = await session.scalar(
        select(func.count())
        .select_from(t.Token)
        .where(
            t.Token.client_id == client_id, t.Token.revoked_at.is_(None), t.Token.expires_at > now
        )
    )
    return count or 0


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def redirect_origin_registered(session: AsyncSession, *, origin: str) -> bool:
    """Whether some app has a redirect URI at ``origin``: what a CORS preflight, which carries
    no client_id, can be answered on. One query finds the candidates (the JSON text of the
    list holds each URI after a quote), then each is checked exactly."""
    prefix = redirect_uris.origin_search_prefix(origin)
    if prefix is None:
        return False
    start = '%"' + _like_escaped(prefix)
    text = func.lower(cast(t.Client.redirect_uris, Text))  # hosts are case-insensitive
    rows = await session.scalars(
        select(t.Client.redirect_uris).where(
            or_(*(text.like(start + end, escape="\\") for end in ("/%", '"%', "?%", ":%")))
        )
    )
    return any(redirect_uris.origin_registered(origin, tuple(uris)) for uris in rows)
