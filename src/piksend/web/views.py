"""Small view models and formatting shared by the settings, consent and docs pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends
from starlette.datastructures import FormData
from starlette.requests import Request

from piksend.clients.validation import AppFields
from piksend.oauth.scopes import SCOPES
from piksend.web import csrf
from piksend.web.context import ctx

MAX_FIELD = 4096


def https_or_none(url: str | None) -> str | None:
    """A logo is shown only from an https URL with a host; anything else is not shown at all."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme == "https" and parts.hostname else None


@dataclass(frozen=True)
class When:
    iso: str
    text: str


def when(value: datetime | None) -> When | None:
    if value is None:
        return None
    return When(iso=value.isoformat(), text=value.strftime("%Y-%m-%d %H:%M UTC"))


async def read_multi_form(request: Request) -> FormData:
    """The posted form with repeated fields kept; CSRF checked before anything else."""
    form = await request.form(max_files=0, max_fields=200)
    c = ctx(request)
    token = form.get("csrf_token")
    csrf.verify(
        request,
        token if isinstance(token, str) else None,
        c.settings.secret_key,
        c.settings.secure_cookies,
    )
    return form


# Declared before SignedIn, so a form's CSRF token is checked before its sender's sign-in.
PostedForm = Annotated[FormData, Depends(read_multi_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v[:MAX_FIELD] for v in form.getlist(name) if isinstance(v, str)][:50]


@dataclass(frozen=True)
class UriRow:
    index: int
    value: str
    error: str | None


@dataclass(frozen=True)
class ScopeChoice:
    name: str
    description: str
    checked: bool


@dataclass
class AppForm:
    """What the app form shows: the submitted values, their rows and their inline errors."""

    name: str = ""
    description: str = ""
    logo_url: str = ""
    website_url: str = ""
    uris: tuple[str, ...] = ("",)
    scopes: frozenset[str] = frozenset()
    errors: dict[str, str] | None = None

    @classmethod
    def from_fields(cls, fields: AppFields) -> AppForm:
        return cls(
            name=fields.name,
            description=fields.description,
            logo_url=fields.logo_url or "",
            website_url=fields.website_url or "",
            uris=tuple(fields.redirect_uris) or ("",),
            scopes=frozenset(fields.scopes),
        )

    @classmethod
    def from_post(cls, form: FormData) -> AppForm:
        return cls(
            name=text(form, "name"),
            description=text(form, "description"),
            logo_url=text(form, "logo_url").strip(),
            website_url=text(form, "website_url").strip(),
            uris=tuple(u.strip() for u in texts(form, "redirect_uri")) or ("",),
            scopes=frozenset(texts(form, "scope")),
        )

    def fields(self) -> AppFields:
        return AppFields(
            name=self.name,
            description=self.description,
            logo_url=self.logo_url or None,
            website_url=self.website_url or None,
            redirect_uris=tuple(u for u in self.uris if u),
            scopes=tuple(sorted(self.scopes)),
        )

    def compacted(self) -> AppForm:
        """Empty redirect URI rows dropped, so row errors line up with validated positions."""
        uris = tuple(u for u in self.uris if u) or ("",)
        return AppForm(**{**self.__dict__, "uris": uris})

    def with_row_added(self) -> AppForm:
        return AppForm(**{**self.__dict__, "uris": (*self.uris, ""), "errors": None})

    def with_row_removed(self, index: int) -> AppForm:
        uris = tuple(u for i, u in enumerate(self.uris) if i != index) or ("",)
        return AppForm(**{**self.__dict__, "uris": uris, "errors": None})

    @property
    def uri_rows(self) -> list[UriRow]:
        errors = self.errors or {}
        return [
            UriRow(index=i, value=u, error=errors.get(f"redirect_uris.{i}"))
            for i, u in enumerate(self.uris)
        ]

    @property
    def scope_choices(self) -> list[ScopeChoice]:
        return [ScopeChoice(n, d, n in self.scopes) for n, d in SCOPES.items()]

    @property
    def uri_group_error(self) -> str | None:
        """The message for the redirect URIs as a whole, when no single row carries it."""
        errors = self.errors or {}
        if any(k.startswith("redirect_uris.") for k in errors):
            return None
        return errors.get("redirect_uris")

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(anchor id, message) for the summary at the top of the form."""
        anchors = {
            "name": "f-name",
            "description": "f-description",
            "logo_url": "f-logo_url",
            "website_url": "f-website_url",
            "scopes": "scopes",
        }
        out = []
        for key, message in (self.errors or {}).items():
            if key.startswith("redirect_uris."):
                index = int(key.rsplit(".", 1)[1])
                out.append((f"f-redirect_uri-{index}", f"Redirect URI {index + 1}: {message}"))
            elif key == "redirect_uris":
                if not any(k.startswith("redirect_uris.") for k in self.errors or {}):
                    out.append(("f-redirect_uri-0", message))
            else:
                out.append((anchors.get(key, "main"), message))
        return out
