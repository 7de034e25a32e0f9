"""Honest consent (issue 15, item 8): names and descriptions without invisible or bidi controls
(Unicode TR #36/#39), PikSend's name only for apps the operator verified, the developer's name
and the operator's badge on consent, and logos fetched once and served by piksend (a PNG from
a loopback origin under the development setting tests run with), or a letter avatar."""

from __future__ import annotations

import asyncio
import html
import io
import re
from urllib.parse import quote

import pytest
from PIL import Image

from piksend.cli_verify import verify_app
from piksend.clients.logos import logo_path
from piksend.errors import ValidationError
from piksend.storage import tables as t
from tests.support.pkce import pkce_pair
from tests.support.portal import Portal, app_form

RLO = "\u202e"
PIKSEND_REFUSED = "Only apps verified by PikSend may use PikSend in their name"
BADGE = "<strong>Verified by PikSend</strong>"


def inline_error(page: str, field_id: str) -> str | None:
    found = re.search(rf'<p class="error" id="e-{re.escape(field_id)}">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def png_bytes(width: int, height: int, colour=(200, 30, 30, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


class LogoOrigin:
    """A loopback origin serving one file at /logo, counting its fetches."""

    def __init__(self) -> None:
        self.body = b""
        self.content_type = "image/png"
        self.status = "200 OK"
        self.fetches = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/logo"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.fetches += 1
        head = (
            f"HTTP/1.1 {self.status}\r\ncontent-type: {self.content_type}\r\n"
            f"content-length: {len(self.body)}\r\nconnection: close\r\n\r\n"
        )
        writer.write(head.encode() + self.body)
        await writer.drain()
        writer.close()


@pytest.fixture
async def origin():
    o = LogoOrigin()
    server = await asyncio.start_server(o.serve, "127.0.0.1", 0)
    o.port = server.sockets[0].getsockname()[1]
    yield o
    server.close()


@pytest.fixture
def portal(http) -> Portal:
    return Portal(http)


async def set_logo(app, client_id: str, url: str) -> None:
    """Stored as is: the form accepts https only, and the loopback origin speaks http."""
    async with app.state.ctx.db.unit_of_work() as s:
        (await s.get(t.Client, client_id)).logo_url = url


async def consent_page(driver, registered):
    _, challenge = pkce_pair()
    page = await driver.authorize(registered, challenge=challenge)
    assert page.status_code == 200, page.text[:300]
    return page


def logo_src(page: str) -> str:
    return html.unescape(re.search(r'<img class="app-logo" src="([^"]+)"', page).group(1))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            f"Photo {RLO}ppA",
            "Application name must not contain invisible or text-direction characters (U+202E)",
        ),
        (
            "Photo\u2066App",
            "Application name must not contain invisible or text-direction characters (U+2066)",
        ),
        (
            "Photo\u200bApp",
            "Application name must not contain invisible or text-direction characters (U+200B)",
        ),
        ("PikSend Official Security Check", PIKSEND_REFUSED),
        ("p i k - s e n d helper", PIKSEND_REFUSED),
        ("P1K\u0405END", PIKSEND_REFUSED),
    ],
)
async def test_a_new_app_name_with_hidden_characters_or_piksends_name_is_refused(
    portal, alice, app, name, message
):
    response = await portal.submit_new(name=name)
    assert response.status_code == 400
    assert inline_error(response.text, "name") == message
    async with app.state.ctx.db.unit_of_work() as s:
        assert (await s.scalars(t.Client.__table__.select())).all() == []


@pytest.mark.parametrize(
    ("char", "code"), [("\u200f", "U+200F"), ("\u061c", "U+061C"), ("\ue000", "U+E000")]
)
async def test_a_description_with_an_invisible_character_is_refused_but_line_breaks_are_kept(
    driver, alice, char, code
):
    with pytest.raises(ValidationError) as refused:
        await driver.register_app(alice.id, description=f"Sends photos{char}")
    assert (refused.value.field, str(refused.value)) == (
        "description",
        f"Description must not contain invisible or text-direction characters ({code})",
    )
    await driver.register_app(alice.id, description="Line one\nLine two")


async def test_consent_names_the_developer_and_says_the_app_is_not_verified(
    driver, alice, registered
):
    page = await consent_page(driver, registered)
    assert (
        '<p class="app-owner">Registered by the PikSend account '
        '<strong class="owner-name">Alice</strong>; PikSend has not verified this app.</p>'
    ) in page.text
    assert BADGE not in page.text


async def test_an_app_the_operator_verified_shows_the_badge_and_may_use_piksends_name(
    driver, alice, registered, settings, portal
):
    verified = await verify_app(settings, registered.client_id)
    assert (verified["client_id"], verified["name"]) == (registered.client_id, "Example App")

    page = await consent_page(driver, registered)
    assert BADGE in page.text
    assert (
        '<p class="app-owner">Registered by the PikSend account '
        '<strong class="owner-name">Alice</strong>.</p>'
    ) in page.text

    edit = await portal.app_page(registered.client_id)
    renamed = await portal.post(
        f"/settings/oauth/{registered.client_id}",
        app_form(
            name="PikSend Photos",
            redirect_uris=(registered.redirect_uri,),
            scopes=tuple(registered.scopes.split()),
        ),
        edit.text,
    )
    assert renamed.status_code == 303, inline_error(renamed.text, "name")
    assert (
        '<span class="app-name">PikSend Photos</span>'
        in (await consent_page(driver, registered)).text
    )


async def test_an_unverified_app_cannot_be_renamed_to_piksend(driver, alice, registered, portal):
    edit = await portal.app_page(registered.client_id)
    renamed = await portal.post(
        f"/settings/oauth/{registered.client_id}",
        app_form(
            name="PikSend Photos",
            redirect_uris=(registered.redirect_uri,),
            scopes=tuple(registered.scopes.split()),
        ),
        edit.text,
    )
    assert (renamed.status_code, inline_error(renamed.text, "name")) == (400, PIKSEND_REFUSED)


async def test_a_logo_is_fetched_once_re_encoded_and_served_by_piksend(
    driver, alice, registered, app, http, origin
):
    origin.body = png_bytes(600, 300)
    await set_logo(app, registered.client_id, origin.url)

    page = await consent_page(driver, registered)
    src = logo_src(page.text)
    assert src == logo_path(registered.client_id, "Example App", origin.url)
    assert src.startswith(f"/apps/{quote(registered.client_id, safe='')}/logo.png?v=")
    assert str(origin.port) not in page.text  # the browser is never sent to the developer

    first = await http.get(src)
    second = await http.get(src)
    assert (first.status_code, first.headers["content-type"]) == (200, "image/png")
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert second.content == first.content
    assert origin.fetches == 1
    served = Image.open(io.BytesIO(first.content))
    assert (served.format, served.size) == ("PNG", (128, 64))
    assert first.content != origin.body  # re-encoded, not passed through


async def test_a_changed_logo_url_is_fetched_again_under_a_new_version(
    driver, alice, registered, app, http, origin
):
    origin.body = png_bytes(64, 64)
    await set_logo(app, registered.client_id, origin.url)
    before = logo_src((await consent_page(driver, registered)).text)
    await http.get(before)
    await set_logo(app, registered.client_id, origin.url + "?v=2")
    after = logo_src((await consent_page(driver, registered)).text)
    assert after != before
    assert (await http.get(after)).headers["content-type"] == "image/png"
    assert origin.fetches == 2


@pytest.mark.parametrize(
    "serve",
    [
        pytest.param({"status": "404 Not Found"}, id="dead"),
        pytest.param({"content_type": "text/html", "body": b"<html>hi</html>"}, id="not-an-image"),
        pytest.param({"body": b"\x89PNG" + b"\0" * (1024 * 1024 + 10)}, id="oversized"),
        pytest.param({"body": png_bytes(64, 64)[:40]}, id="truncated"),
    ],
)
async def test_a_dead_oversized_or_non_image_logo_shows_the_letter_avatar(
    driver, alice, registered, app, http, origin, serve
):
    origin.body = png_bytes(64, 64)
    for name, value in serve.items():
        setattr(origin, name, value)
    await set_logo(app, registered.client_id, origin.url)
    src = logo_src((await consent_page(driver, registered)).text)

    answers = [await http.get(src), await http.get(src)]
    assert [(a.status_code, a.headers["content-type"]) for a in answers] == [
        (200, "image/svg+xml"),
        (200, "image/svg+xml"),
    ]
    assert ">E</text></svg>" in answers[0].text  # "Example App"
    assert "<script" not in answers[0].text
    assert origin.fetches == 1  # the failure is remembered too


async def test_an_app_without_a_logo_shows_its_letter_avatar_without_any_fetch(
    driver, alice, app, http
):
    registered = await driver.register_app(alice.id, name="<zebra> & co")
    src = logo_src((await consent_page(driver, registered)).text)
    avatar = await http.get(src)
    assert (avatar.status_code, avatar.headers["content-type"]) == (200, "image/svg+xml")
    assert ">Z</text></svg>" in avatar.text
    assert avatar.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )


async def test_the_logo_of_an_unknown_app_is_not_found(http):
    response = await http.get("/apps/pks_ci_nobody/logo.png")
    assert response.status_code == 404


async def test_the_apps_pages_show_the_logo_served_by_piksend(driver, alice, registered, http):
    path = logo_path(registered.client_id, "Example App", None)
    listing = await http.get("/settings/oauth")
    one = await http.get(f"/settings/oauth/{registered.client_id}")
    for page in (listing, one):
        assert html.unescape(logo_src(page.text)) == path
