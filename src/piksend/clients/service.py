"""Registering, editing, rotating and deleting apps; the user's connected apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.errors import NotFound, ValidationError
from piksend.oauth import redirect_uris, scopes, tokens
from piksend.storage import tables as t

MAX_REDIRECT_URIS = 10
MAX_NAME = 100
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class AppFields:
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    description: str = ""
    logo_url: str | None = None
    website_url: str | None = None


@dataclass(frozen=True)
class App:
    client_id: str
    owner_id: str
    name: str
    description: str
    logo_url: str | None
    website_url: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None = None


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
    )


def _https_url_problem(value: str, label: str) -> str | None:
    if len(value) > 2000:
        return f"{label} must be at most 2000 characters"
    try:
        parts = urlsplit(value)
    except ValueError:
        return f"{label} must be a valid https URL"
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        return f"{label} must be an https URL"
    return None


DUPLICATE_REDIRECT_URI = "This redirect URI is already listed"


def redirect_uri_problems(uris: tuple[str, ...]) -> dict[int, str]:
    """The problem with each redirect URI, by its position (for a message beside each row)."""
    problems: dict[int, str] = {}
    seen: set[str] = set()
    for index, uri in enumerate(uris):
        if problem := redirect_uris.registration_problem(uri):
            problems[index] = problem
        elif uri in seen:
            problems[index] = DUPLICATE_REDIRECT_URI
        seen.add(uri)
    return problems


def validate_fields(fields: AppFields) -> dict[str, str]:
    """Every problem with the submitted fields, keyed by field name (for inline messages)."""
    problems: dict[str, str] = {}
    name = fields.name.strip()
    if not name:
        problems["name"] = "Application name is required"
    elif len(name) > MAX_NAME:
        problems["name"] = f"Application name must be at most {MAX_NAME} characters"
    if len(fields.description) > MAX_DESCRIPTION:
        problems["description"] = f"Description must be at most {MAX_DESCRIPTION} characters"
    for key, label in (("logo_url", "Logo URL"), ("website_url", "Website URL")):
        value = getattr(fields, key)
        if value and (problem := _https_url_problem(value, label)):
            problems[key] = problem
    uris = fields.redirect_uris
    if not uris:
        problems["redirect_uris"] = "At least one redirect URI is required"
    elif len(uris) > MAX_REDIRECT_URIS:
        problems["redirect_uris"] = f"At most {MAX_REDIRECT_URIS} redirect URIs"
    else:
        rows = redirect_uri_problems(uris)
        if rows:
            first = min(rows)
            if rows[first] == DUPLICATE_REDIRECT_URI:
                problems["redirect_uris"] = "Each redirect URI may be registered only once"
            else:
                problems["redirect_uris"] = f"{rows[first]}: {uris[first][:200]}"
            problems.update({f"redirect_uris.{i}": message for i, message in rows.items()})
    if not fields.scopes:
        problems["scopes"] = "Choose at least one scope"
    else:
        unknown = [s for s in fields.scopes if s not in scopes.SCOPES]
        if unknown:
            problems["scopes"] = f"Unknown scope: {' '.join(unknown)[:200]}"
    return problems


def _clean(fields: AppFields) -> AppFields:
    problems = validate_fields(fields)
    if problems:
        field, message = next(iter(problems.items()))
        raise ValidationError(message, field=field)
    return AppFields(
        name=fields.name.strip(),
        redirect_uris=tuple(fields.redirect_uris),
        scopes=scopes.canonical(fields.scopes),
        description=fields.description.strip(),
        logo_url=fields.logo_url or None,
        website_url=fields.website_url or None,
    )


async def create_app(
    session: AsyncSession, *, owner_id: str, fields: AppFields, now: datetime
) -> tuple[App, str]:
    """Register an app; returns it with its client secret, which is never stored or shown again."""
    fields = _clean(fields)
    secret = tokens.generate(tokens.Prefix.CLIENT_SECRET)
    row = t.Client(
        id=tokens.generate_client_id(),
        owner_id=owner_id,
        name=fields.name,
        description=fields.description,
        logo_url=fields.logo_url,
        website_url=fields.website_url,
        redirect_uris=list(fields.redirect_uris),
        scopes=" ".join(fields.scopes),
        secret_digest=tokens.digest(secret),
        created_at=now,
        updated_at=now,
    )
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


async def update_app(
    session: AsyncSession, *, owner_id: str, client_id: str, fields: AppFields, now: datetime
) -> App:
    row = await _owned(session, owner_id, client_id)
    fields = _clean(fields)
    row.name, row.description = fields.name, fields.description
    row.logo_url, row.website_url = fields.logo_url, fields.website_url
    row.redirect_uris, row.scopes = list(fields.redirect_uris), " ".join(fields.scopes)
    row.updated_at = now
    await session.flush()
    return _app(row)


async def rotate_secret(
    session: AsyncSession,
    *,
    owner_id: str,
    client_id: str,
    now: datetime,
    grace_seconds: int = 0,
) -> str:
    """A new client secret; the old one works for ``grace_seconds`` more (0: stops at once)."""
    if not 0 <= grace_seconds <= 7 * 24 * 3600:
        raise ValidationError("Grace period must be between 0 seconds and 7 days")
    row = await _owned(session, owner_id, client_id)
    secret = tokens.generate(tokens.Prefix.CLIENT_SECRET)
    if grace_seconds:
        row.previous_secret_digest = row.secret_digest
        row.previous_secret_expires_at = now + timedelta(seconds=grace_seconds)
    else:
        row.previous_secret_digest = None
        row.previous_secret_expires_at = None
    row.secret_digest = tokens.digest(secret)
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


@dataclass(frozen=True)
class ConnectedApp:
    client_id: str
    name: str
    logo_url: str | None
    website_url: str | None
    scopes: tuple[str, ...]
    authorized_at: datetime
    last_used_at: datetime | None


async def connected_apps(session: AsyncSession, *, user_id: str) -> list[ConnectedApp]:
    """Apps holding an unrevoked consent of this user, with the union of granted scopes."""
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
        )
    return list(by_client.values())


async def revoke_access(
    session: AsyncSession, *, user_id: str, client_id: str, now: datetime
) -> int:
    """Revoke every consent and token this user gave the app; consent rows first, then tokens,
    the same lock order as token issuance."""
    result = await session.execute(
        update(t.Consent)
        .where(
            t.Consent.user_id == user_id,
            t.Consent.client_id == client_id,
            t.Consent.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    await session.execute(
        update(t.Token)
        .where(
            t.Token.consent_id.in_(
                select(t.Consent.id).where(
                    t.Consent.user_id == user_id, t.Consent.client_id == client_id
                )
            ),
            t.Token.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return result.rowcount


async def count_active_tokens(session: AsyncSession, *, client_id: str, now: datetime) -> int:
    return await session.scalar(
        select(func.count())
        .select_from(t.Token)
        .where(
            t.Token.client_id == client_id, t.Token.revoked_at.is_(None), t.Token.expires_at > now
        )
    )


async def add_redirect_uri(
    session: AsyncSession, *, owner_id: str, client_id: str, uri: str, now: datetime
) -> App:
    """Register one more redirect URI (the built-in test callback); a no-op when present."""
    current = await get_app(session, owner_id=owner_id, client_id=client_id)
    if uri in current.redirect_uris:
        return current
    fields = AppFields(
        name=current.name,
        redirect_uris=(*current.redirect_uris, uri),
        scopes=current.scopes,
        description=current.description,
        logo_url=current.logo_url,
        website_url=current.website_url,
    )
    return await update_app(session, owner_id=owner_id, client_id=client_id, fields=fields, now=now)


# One-time forms. Creating an app and rotating its secret answer with a secret shown once,
# in that response only (it is never stored in clear). Their forms carry a nonce issued with
# the page; the POST claims it with one conditional UPDATE, so a reload or a re-post can
# neither act twice nor show a secret again.

FORM_NONCE_TTL = timedelta(hours=2)
FORM_NONCE_KEPT = timedelta(days=2)
CREATE_APP = "create_app"


def rotate_purpose(client_id: str) -> str:
    return f"rotate_secret:{client_id}"[:100]


@dataclass(frozen=True)
class NonceClaim:
    claimed: bool
    already_used: bool = False
    client_id: str | None = None


async def issue_form_nonce(
    session: AsyncSession, *, user_id: str, purpose: str, now: datetime
) -> str:
    await session.execute(delete(t.FormNonce).where(t.FormNonce.expires_at < now - FORM_NONCE_KEPT))
    nonce = tokens.generate(tokens.Prefix.FORM_NONCE, 24)
    session.add(
        t.FormNonce(
            digest=tokens.digest(nonce),
            user_id=user_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + FORM_NONCE_TTL,
        )
    )
    await session.flush()
    return nonce


async def claim_form_nonce(
    session: AsyncSession,
    *,
    user_id: str,
    purpose: str,
    nonce: str,
    now: datetime,
    client_id: str | None = None,
) -> NonceClaim:
    """Use the nonce once; the row count picks the single winner among concurrent posts."""
    if not nonce or len(nonce) > 200:
        return NonceClaim(claimed=False)
    digest = tokens.digest(nonce)
    result = await session.execute(
        update(t.FormNonce)
        .where(
            t.FormNonce.digest == digest,
            t.FormNonce.user_id == user_id,
            t.FormNonce.purpose == purpose,
            t.FormNonce.used_at.is_(None),
            t.FormNonce.expires_at > now,
        )
        .values(used_at=now, client_id=client_id)
    )
    if result.rowcount == 1:
        return NonceClaim(claimed=True)
    row = await session.get(t.FormNonce, digest)
    if row is not None and row.user_id == user_id and row.used_at is not None:
        return NonceClaim(claimed=False, already_used=True, client_id=row.client_id)
    return NonceClaim(claimed=False)


async def record_nonce_result(session: AsyncSession, *, nonce: str, client_id: str) -> None:
    await session.execute(
        update(t.FormNonce)
        .where(t.FormNonce.digest == tokens.digest(nonce))
        .values(client_id=client_id)
    )
