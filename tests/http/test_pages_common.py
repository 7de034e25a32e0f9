"""What every page shares: security headers, one stylesheet, labelled fields; the consent
screen's escaping and logo rule; the developer docs filled in for this server."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from piksend.clients.logos import logo_path
from piksend.web.security import consent_csp
from tests.conftest import ISSUER
from tests.support.pkce import pkce_pair
from tests.support.portal import Portal

HEADER_NAMES = (
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
)


class FormAudit(HTMLParser):
    """Collects form controls, label targets and stylesheet links of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.stylesheets: list[str] = []
        self.inline_styles = 0
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "style" in a:
            self.inline_styles += 1
        if tag in ("input", "textarea", "select") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])
        if tag == "style" or (tag == "script" and "src" not in a):
            self.inline_scripts += 1


def audit(page: str) -> FormAudit:
    parser = FormAudit()
    parser.feed(page)
    return parser


@pytest.fixture
async def pages(http, driver, alice, registered):
    """Every page a signed-in developer can reach, by name."""
    portal = Portal(http)
    client_id, _ = await portal.create(logo_url="https://cdn.example.com/l.png")
    await driver.tokens(registered)
    _, challenge = pkce_pair()
    consent = await driver.authorize(registered, challenge=challenge)
    created = await portal.follow(await portal.submit_new(name="Second"))
    return {
        "apps": await http.get("/settings/oauth"),
        "new": await http.get("/settings/oauth/new"),
        "created": created,
        "app": await http.get(f"/settings/oauth/{client_id}"),
        "delete": await http.get(f"/settings/oauth/{client_id}/delete"),
        "test": await http.get(f"/settings/oauth/{client_id}/test"),
        "rotated": await portal.rotate(client_id),
        "rotate_now": await http.get(f"/settings/oauth/{client_id}/rotate"),
        "revoke": await http.get(f"/settings/connected-apps/{registered.client_id}/revoke"),
        "connected": await http.get("/settings/connected-apps"),
        "consent": consent,
        "docs": await http.get("/docs/oauth"),
    }


async def test_every_page_has_the_security_headers_of_the_login_page(http, pages, registered):
    await http.post("/logout", data={"csrf_token": "x"})
    login = await http.get("/login")
    expected = {name: login.headers[name] for name in HEADER_NAMES}
    # The consent screen is stricter: its URL carries the request, so it sends no Referer, and
    # its form may go only to this server and the app's one redirect target.
    stricter = {
        "consent": {
            **expected,
            "referrer-policy": "no-referrer",
            "content-security-policy": consent_csp(registered.redirect_uri),
        }
    }
    for name, response in pages.items():
        assert response.status_code in (200, 201), name
        wanted = stricter.get(name, expected)
        assert {h: response.headers.get(h) for h in HEADER_NAMES} == wanted, name


async def test_every_page_uses_the_one_stylesheet_no_inline_style_or_script_and_labels_each_field(
    pages,
):
    for name, response in pages.items():
        found = audit(response.text)
        assert found.stylesheets == ["/static/piksend.css"], name
        assert (found.inline_styles, found.inline_scripts) == (0, 0), name
        unlabelled = [c for c in found.controls if c.get("id") not in found.label_for]
        assert unlabelled == [], name


async def test_pages_holding_secrets_or_personal_data_are_not_cached(pages):
    for name in (
        "apps",
        "new",
        "created",
        "app",
        "rotated",
        "rotate_now",
        "connected",
        "revoke",
        "consent",
    ):
        assert pages[name].headers["cache-control"] == "no-store", name


async def test_consent_escapes_untrusted_app_strings(driver, alice, http):
    registered = await driver.register_app(
        alice.id,
        name='<script>alert("n")</script>',
        description="<img src=x onerror=alert(1)>",
        website_url='https://example.com/"><script>alert(2)</script>',
    )
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert (
        '<span class="app-name">&lt;script&gt;alert(&#34;n&#34;)&lt;/script&gt;</span>' in page.text
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert 'href="https://example.com/&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in page.text


async def test_consent_shows_logo_redirect_host_website_and_each_scope(driver, alice, http):
    registered = await driver.register_app(
        alice.id,
        logo_url="https://cdn.example.com/logo.png",
        website_url="https://example.com",
        redirect_uris=("https://app.example.com:8443/callback",),
    )
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    # issue 15: the logo is served by piksend, never hot-linked from the developer's server
    logo = logo_path(registered.client_id, "Example App", "https://cdn.example.com/logo.png")
    assert f'<img class="app-logo" src="{logo}"' in page.text
    assert "cdn.example.com" not in page.text
    assert '<strong class="redirect-host">app.example.com:8443</strong>' in page.text
    assert '<a class="website" href="https://example.com"' in page.text
    labels = re.findall(r'<label for="scope-\d">([^<]+) <code>([^<]+)</code></label>', page.text)
    assert labels == [
        ("Read basic profile information (name, email, avatar)", "profile:read"),
        ("View your galleries and their settings", "galleries:read"),
        ("Create, update, and delete galleries", "galleries:write"),
    ]
    assert "<strong>Cancel</strong> sends you back to app.example.com:8443 without" in page.text


async def test_consent_hides_a_logo_that_is_not_https(driver, alice, app, http):
    registered = await driver.register_app(alice.id)
    from piksend.storage import tables as t

    async with app.state.ctx.db.unit_of_work() as s:
        (await s.get(t.Client, registered.client_id)).logo_url = "http://cdn.example.com/l.png"
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert "cdn.example.com" not in page.text
    # issue 15: no https logo, so the letter avatar piksend serves at the same path
    logo = logo_path(registered.client_id, "Example App", "http://cdn.example.com/l.png")
    assert f'<img class="app-logo" src="{logo}"' in page.text


async def test_docs_fill_in_the_base_url_of_this_server(http):
    page = await http.get("/docs/oauth")
    assert page.status_code == 200
    assert f'<code id="base-url">{ISSUER}</code>' in page.text
    assert f"GET {ISSUER}/api/oauth/authorize" in page.text
    assert f"POST {ISSUER}/api/oauth/token" in page.text
    assert "__PIKSEND_BASE_URL__" not in page.text
    for anchor in ("register", "scopes", "pkce", "endpoints", "errors", "troubleshooting"):
        assert f'<section id="{anchor}">' in page.text


@pytest.mark.parametrize(
    ("name", "element", "media_type", "base_line"),
    [
        (
            "piksend_example.py",
            "python-example-code",
            "text/x-python",
            f'PIKSEND_URL = "{ISSUER}"\n',
        ),
        (
            "piksend_example.js",
            "node-example-code",
            "text/javascript",
            f"const PIKSEND_URL = '{ISSUER}';\n",
        ),
    ],
)
async def test_docs_examples_are_the_downloadable_files_with_this_servers_url(
    http, name, element, media_type, base_line
):
    page = await http.get("/docs/oauth")
    shown = re.search(rf'<code id="{element}">(.*?)</code></pre>', page.text, re.S).group(1)
    download = await http.get(f"/docs/oauth/examples/{name}")
    assert download.status_code == 200
    assert download.headers["content-type"].split(";")[0] == media_type
    assert html.unescape(shown) == download.text
    assert base_line in download.text


async def test_unknown_example_is_not_found(http):
    response = await http.get("/docs/oauth/examples/secrets.txt")
    assert response.status_code == 404


async def test_docs_state_this_servers_token_and_code_lifetimes(http):
    page = await http.get("/docs/oauth")
    assert "an access token (valid 1 hour)" in page.text
    assert "The code is valid for 2 minutes and only once." in page.text
