"""/docs/oauth for apps without a backend (issue 12): a section for each kind of public app,
what "HTTPS only" means for each kind of redirect URI, and the single-page and command-line
examples shown and downloadable with this server's URL filled in."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import ISSUER


@pytest.fixture
async def guide(http) -> str:
    response = await http.get("/docs/oauth")
    assert response.status_code == 200
    return response.text


def section(page: str, anchor: str) -> str:
    match = re.search(
        rf'<(section|h3) id="{anchor}">(.*?)(?=<section |<h3 |</section>)', page, re.S
    )
    assert match, f"no #{anchor} on the page"
    return match.group(2)


async def test_the_guide_has_a_section_for_each_kind_of_app_without_a_backend(guide):
    for anchor in (
        "apps-without-a-backend",
        "single-page-apps",
        "mobile-and-desktop-apps",
        "command-line-apps",
        "redirect-uris",
        "spa-example",
        "cli-example",
    ):
        assert section(guide, anchor).strip() != ""
    assert '<li><a href="#apps-without-a-backend">' in guide
    assert '<li><a href="#redirect-uris">' in guide


async def test_each_kind_says_which_redirect_pkce_no_secret_and_where_tokens_live(guide):
    spa = section(guide, "single-page-apps")
    assert "<code>https://yourapp.example/callback</code>" in spa
    assert '<code>crypto.subtle.digest("SHA-256", …)</code>' in spa
    assert "<strong>Tokens in memory only</strong>" in spa
    native = section(guide, "mobile-and-desktop-apps")
    assert "<code>com.example.photos:/oauth2redirect</code> (§7.1)" in native
    assert "the Keychain on iOS and macOS, the Keystore on Android" in native
    cli = section(guide, "command-line-apps")
    assert "<code>http://127.0.0.1:&lt;that port&gt;/callback</code>" in cli
    assert "any port matches (RFC 8252 §7.3)" in cli
    for kind in (spa, native, cli):
        assert "<strong>PKCE" in kind
        assert "secret" in kind


async def test_the_redirect_table_says_what_https_only_means_for_each_kind(guide):
    table = section(guide, "redirect-uris")
    rows = re.findall(r"<tr><td>([^<]+)</td>", table)
    assert rows == ["Web address", "Loopback", "Private-use scheme"]
    assert "<code>https</code> is required" in table
    assert "The one exception: <code>http</code> is allowed" in table
    assert (
        "public apps only (mobile and desktop); an app with a secret registering one is refused"
        in table
    )


async def test_the_endpoints_say_what_a_public_app_sends(guide):
    assert "A public app sends <code>client_id</code> in the body and no secret." in guide
    assert "<code>client_secret</code> (a public app sends no secret)" in guide
    assert "RFC 7662, for apps with a client secret only." in guide
    assert 'is <code>"confidential"</code> (the default) or <code>"public"</code>' in guide


@pytest.mark.parametrize(
    ("name", "element", "media_type", "base_line"),
    [
        ("spa.html", "spa-example-code", "text/plain", f"  var PIKSEND_URL = '{ISSUER}';\n"),
        (
            "piksend_cli_example.py",
            "cli-example-code",
            "text/x-python",
            f'PIKSEND_URL = "{ISSUER}"\n',
        ),
    ],
)
async def test_the_public_client_examples_are_shown_and_downloadable_with_this_servers_url(
    http, guide, name, element, media_type, base_line
):
    shown = re.search(rf'<code id="{element}">(.*?)</code></pre>', guide, re.S)
    assert shown, f"#{element} is not on the page"
    download = await http.get(f"/docs/oauth/examples/{name}")
    assert download.status_code == 200
    assert download.headers["content-type"].split(";")[0] == media_type
    assert html.unescape(shown.group(1)) == download.text
    assert base_line in download.text
    assert "__PIKSEND_BASE_URL__" not in download.text
    assert f'<a href="/docs/oauth/examples/{name}" download>Download {name}</a>' in guide
