"""A live ``piksend serve`` per module and backend, with a user and a registered app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import requests

from tests.support import db as testdb
from tests.support.live import LiveServer, free_port, live_server

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "live-password-1"


@dataclass
class LiveApp:
    server: LiveServer
    client_id: str
    client_secret: str
    redirect_uri: str
    email: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("live")
    if request.param == "postgresql":
        base = testdb.pg_url()
        if base is None:
            pytest.skip(testdb.PG_SKIP_REASON)
        url = testdb.create_pg_database(base)
    else:
        url = f"sqlite:///{data_dir}/piksend.db"
    try:
        with live_server(data_dir, url) as server:
            yield server
    finally:
        if request.param == "postgresql":
            testdb.drop_pg_database(url)


@pytest.fixture(scope="module")
def live_app(live) -> LiveApp:
    email = "owner@example.com"
    live.cli("users", "create", "--email", email, "--password", PASSWORD, "--name", "Owner")
    callback_port = free_port()
    redirect_uri = f"http://127.0.0.1:{callback_port}/callback"
    created = live.cli(
        "apps",
        "create",
        "--owner",
        email,
        "--name",
        "Live Test App",
        "--redirect-uri",
        redirect_uri,
        "--redirect-uri",
        "http://localhost:5000/callback",
        "--scopes",
        "profile:read galleries:read galleries:write",
        "--description",
        "Conformance tests",
        "--website-url",
        "https://example.com",
    )
    return LiveApp(live, created["client_id"], created["client_secret"], redirect_uri, email)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]]  # name -> the values offered (checkboxes, buttons: several)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = Form(a.get("action", ""), a.get("method", "get").lower(), {})
            self.forms.append(self._open)
        elif tag in ("input", "button", "select", "textarea") and self._open and a.get("name"):
            self._open.fields.setdefault(a["name"], []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def form_with(html: str, field: str) -> Form:
    """The one form of the page that has ``field``, as a browser would submit it."""
    parser = _FormParser()
    parser.feed(html)
    found = [form for form in parser.forms if field in form.fields]
    assert len(found) == 1, f"{len(found)} forms with {field!r}: {html[:500]}"
    return found[0]


def approval_form(html: str) -> Form:
    """The consent page's decision form: the one with ``pending_id`` that offers "approve"
    (the page's other forms with ``pending_id`` are "Not you?" and the menu's sign-out)."""
    parser = _FormParser()
    parser.feed(html)
    found = [
        form
        for form in parser.forms
        if "pending_id" in form.fields and "approve" in form.fields.get("decision", [])
    ]
    assert len(found) == 1, f"{len(found)} approval forms: {html[:500]}"
    return found[0]


def submit(
    browser: requests.Session, page: requests.Response, form: Form, data
) -> requests.Response:
    """Post ``data`` where the form says: its ``action``, resolved against the page's URL."""
    assert form.method == "post", form
    return browser.post(
        urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=10
    )


def browser_approve(
    authorization_url: str, *, email: str, password: str = PASSWORD, scopes: list[str] | None = None
) -> str:
    """Act as the user's browser: follow to the sign-in form, sign in, approve on the real
    consent form, and return the Location the server sends the browser back to. Each form is
    posted to its own ``action`` with its own hidden fields, never to a path known here."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=True, timeout=10)
    if "/login" in response.url:
        login = form_with(response.text, "password")
        data = {name: values[0] for name, values in login.fields.items()}
        data.update(email=email, password=password)
        signed_in = submit(browser, response, login, data)
        assert signed_in.status_code == 303, signed_in.text[:500]
        response = browser.get(
            urljoin(signed_in.url, signed_in.headers["location"]), allow_redirects=True, timeout=10
        )
    assert response.status_code == 200, response.text[:500]
    consent = approval_form(response.text)
    offered = consent.fields.get("scope", [])
    assert "approve" in consent.fields["decision"], consent
    data = [
        (name, values[0])
        for name, values in consent.fields.items()
        if name not in ("scope", "decision")
    ]
    data += [("decision", "approve")]
    data += [("scope", s) for s in (offered if scopes is None else scopes)]
    decided = submit(browser, response, consent, data)
    assert decided.status_code == 303, decided.text[:500]
    return decided.headers["location"]


@pytest.fixture(autouse=True)
def oauthlib_settings(monkeypatch):
    # requests-oauthlib refuses http:// unless told: these tests run over loopback (RFC 8252 §7.3)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    # and raises when the granted scope is narrower than asked, unless told that is fine
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
