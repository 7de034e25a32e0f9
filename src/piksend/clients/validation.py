"""An app's registration fields and every rule they must meet, with a message for each field.

Redirect URIs follow the registration rules of RFC 6749 §3.1.2 (absolute, no fragment),
RFC 8252 §7.1 (private-use schemes, public apps only) and §7.3 (plain http only on a loopback
host), which `piksend.oauth.redirect_uris` holds; they depend on the app's client type.
Names and descriptions follow `piksend.oauth.display_text` (Unicode TR #36/#39: no invisible or
bidi control characters; PikSend's name for verified apps only).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from piksend.errors import ValidationError
from piksend.oauth import redirect_uris, scopes
from piksend.oauth.display_text import (
    PIKSEND_NAME_REFUSED,
    claims_piksend,
    hidden_character_problem,
)
from piksend.oauth.types import ClientType

MAX_REDIRECT_URIS = 10
MAX_NAME = 100
MAX_DESCRIPTION = 1000
DUPLICATE_REDIRECT_URI = "This redirect URI is already listed"


@dataclass(frozen=True)
class AppFields:
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    description: str = ""
    logo_url: str | None = None
    website_url: str | None = None


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


def redirect_uri_problems(
    uris: tuple[str, ...], client_type: ClientType = ClientType.CONFIDENTIAL
) -> dict[int, str]:
    """The problem with each redirect URI, by its position (for a message beside each row)."""
    problems: dict[int, str] = {}
    seen: set[str] = set()
    for index, uri in enumerate(uris):
        if problem := redirect_uris.registration_problem(uri, client_type):
            problems[index] = problem
        elif uri in seen:
            problems[index] = DUPLICATE_REDIRECT_URI
        seen.add(uri)
    return problems


def validate_fields(
    fields: AppFields, client_type: ClientType = ClientType.CONFIDENTIAL, *, verified: bool = False
) -> dict[str, str]:
    """Every problem with the submitted fields, keyed by field name (for inline messages).
    ``verified``: the operator verified the app (``piksend apps verify``)."""
    problems: dict[str, str] = {}
    name = fields.name.strip()
    if not name:
        problems["name"] = "Application name is required"
    elif len(name) > MAX_NAME:
        problems["name"] = f"Application name must be at most {MAX_NAME} characters"
    elif problem := hidden_character_problem(name, "Application name"):
        problems["name"] = problem
    elif not verified and claims_piksend(name):
        problems["name"] = PIKSEND_NAME_REFUSED
    if len(fields.description) > MAX_DESCRIPTION:
        problems["description"] = f"Description must be at most {MAX_DESCRIPTION} characters"
    elif problem := hidden_character_problem(fields.description, "Description", multiline=True):
        problems["description"] = problem
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
        rows = redirect_uri_problems(uris, client_type)
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


def cleaned(
    fields: AppFields, client_type: ClientType = ClientType.CONFIDENTIAL, *, verified: bool = False
) -> AppFields:
    """The fields as stored: trimmed, scopes in canonical order; the first problem raised."""
    problems = validate_fields(fields, client_type, verified=verified)
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
