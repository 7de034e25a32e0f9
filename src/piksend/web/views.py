"""Small view models and formatting shared by the settings, consent and docs pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends
from starlette.datastructures import FormData
from starlette.requests import Request

from piksend.clients.validation import AppFields
from piksend.oauth.redirect_uris import LOOPBACK_IPS, private_use_scheme
from piksend.oauth.scopes import SCOPES
from piksend.oauth.types import Client, ClientType
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


def redirect_destination(uri: str) -> str:
    """Where the consent screen says the person goes next: the host and port of a web address,
    or the scheme of a private-use one (RFC 8252 §7.1), which names the app on the device."""
    if (scheme := private_use_scheme(uri)) is not None:
        return scheme
    return urlsplit(uri).netloc


def where_it_runs(client: Client, redirect_uri: str) -> str | None:
    """For a public client, the words the consent screen uses for where it runs: on the
    person's device when it comes back to a loopback or private-use address (RFC 8252 §7.1,
    §7.3), else in their browser. None for a confidential client, which runs on a server."""
    if client.client_type is not ClientType.PUBLIC:
        return None
    if private_use_scheme(redirect_uri) is not None:
        return "on your device"
    parts = urlsplit(redirect_uri)
    if parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_IPS | {"localhost"}:
        return "on your device"
    return "in your browser"


@dataclass(frozen=True)
class TypeChoice:
    value: str
    label: str
    hint: str
    checked: bool


CLIENT_TYPE_LABELS = {
    ClientType.CONFIDENTIAL: "Runs on a server (it can keep a secret)",
    ClientType.PUBLIC: "Runs in a browser or on a device (single-page, mobile, desktop or "
    "command-line app: no secret)",
}
CLIENT_TYPE_HINTS = {
    ClientType.CONFIDENTIAL: "A web app with a backend. It gets a client secret, shown once, and "
    "sends it to the token endpoint. Redirect URIs: https (http only on localhost, 127.0.0.1 "
    "or [::1], for development).",
    ClientType.PUBLIC: "Its code is in people's hands, so it cannot keep a secret: it gets none "
    "and proves each sign-in with PKCE alone. Redirect URIs: https for a browser app or a claimed "
    "https link of a mobile app; for a desktop or command-line app also a loopback address "
    "http://127.0.0.1:<any port>/… (RFC 8252 §7.3); for a mobile or desktop app also a "
    "private-use scheme in reverse-domain form, like com.example.app:/callback (RFC 8252 §7.1).",
}
URI_HINTS = {
    ClientType.CONFIDENTIAL: "Where people are sent back after they decide. Each must be an "
    "absolute https URL (http only on localhost, 127.0.0.1 or [::1]), with no fragment (#) and no "
    "wildcard (*). Authorization requests must use one of them exactly.",
    ClientType.PUBLIC: "Where people are sent back after they decide. Each must be an absolute "
    "https URL, a loopback address (http://127.0.0.1/…, http://[::1]/… or http://localhost/…; "
    "on 127.0.0.1 and [::1] any port matches) or a private-use scheme in reverse-domain form "
    "(com.example.app:/callback), with no fragment (#) and no wildcard (*). Authorization "
    "requests must use one of them exactly.",
}


def client_type_of(value: str) -> ClientType | None:
    """The client type a form posted; an absent one is confidential, as before types existed."""
    if not value:
        return ClientType.CONFIDENTIAL
    try:
        return ClientType(value)
    except ValueError:
        return None


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
    client_type: str = ClientType.CONFIDENTIAL.value

    @classmethod
    def from_fields(
        cls, fields: AppFields, client_type: ClientType = ClientType.CONFIDENTIAL
    ) -> AppForm:
        return cls(
            client_type=client_type.value,
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
            client_type=text(form, "client_type"),
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
    def type(self) -> ClientType:
        """The chosen type; an unknown posted value reads as confidential (and is an error)."""
        return client_type_of(self.client_type) or ClientType.CONFIDENTIAL

    def problems(self, validate: Callable[[AppFields, ClientType], dict[str, str]]) -> None:
        """Validate the fields for the chosen type, and the choice itself."""
        errors = validate(self.fields(), self.type)
        if client_type_of(self.client_type) is None:
            errors["client_type"] = "Choose where your app runs"
        self.errors = errors or None

    @property
    def type_choices(self) -> list[TypeChoice]:
        return [
            TypeChoice(t.value, CLIENT_TYPE_LABELS[t], CLIENT_TYPE_HINTS[t], t is self.type)
            for t in ClientType
        ]

    @property
    def uri_hint(self) -> str:
        return URI_HINTS[self.type]

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
            "client_type": "client-type",
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
