"""Client ID metadata documents (issue 13, item 3), served from a loopback origin under the
development setting tests run with (PIKSEND_WEBHOOKS_ALLOW_PRIVATE): the whole flow with the
document's URL as client_id, its rules, and HTTP caching honoured, on both databases."""

from __future__ import annotations

import asyncio
import html
import json
import re
from urllib.parse import unquote

import pytest

from tests.support.driver import RegisteredApp
from tests.support.portal import Portal

REDIRECT = "http://127.0.0.1:43117/callback"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
WARNING = "Registered by the app itself; PikSend has not reviewed it."


class DocumentOrigin:
    """A loopback origin serving one document at /client.json, counting its fetches."""

    def __init__(self) -> None:
        self.document: dict | None = None
        self.cache_control = "max-age=600"
        self.fetches = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client.json"

    def describe(self, **fields) -> str:
        self.document = {
            "client_id": self.url,
            "client_name": "Assistant Host",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            **fields,
        }
        return self.url

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.fetches += 1
        body = json.dumps(self.document).encode()
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            f"cache-control: {self.cache_control}\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()


@pytest.fixture
async def origin():
    o = DocumentOrigin()
    server = await asyncio.start_server(o.serve, "127.0.0.1", 0)
    o.port = server.sockets[0].getsockname()[1]
    yield o
    server.close()


def _app(client_id: str, redirect_uri: str = REDIRECT) -> RegisteredApp:
    return RegisteredApp(client_id, None, redirect_uri, "profile:read")


def _error_of(page) -> str:
    found = re.search(r"This app cannot be used: [^<]*", page.text)
    return html.unescape(found.group(0)) if found else page.text[:300]


async def test_an_app_named_by_its_document_runs_the_whole_flow(driver, alice, origin):
    app = _app(origin.describe())

    consent = await driver.authorize(app, challenge=CHALLENGE)
    assert (consent.status_code, WARNING in consent.text) == (200, True)
    auth = await driver.authorize_and_approve(app)
    exchanged = await driver.exchange(app, auth, form=True)

    assert exchanged.status_code == 200, exchanged.text
    assert (await driver.me(exchanged.json()["access_token"])).status_code == 200


async def test_a_document_naming_another_client_id_is_refused(driver, alice, origin):
    origin.describe()
    origin.document["client_id"] = "https://elsewhere.example/client.json"

    page = await driver.authorize(_app(origin.url), challenge=CHALLENGE)

    assert (page.status_code, _error_of(page)) == (
        400,
        "This app cannot be used: its client metadata document was refused: "
        "the client_id in the document is not its URL.",
    )


async def test_a_redirect_uri_the_document_does_not_list_is_refused(driver, alice, origin):
    app = _app(origin.describe(), redirect_uri="http://127.0.0.1:43117/elsewhere")

    page = await driver.authorize(app, challenge=CHALLENGE)

    assert page.status_code == 400
    assert "location" not in page.headers


async def test_private_key_jwt_is_refused(driver, alice, origin):
    app = _app(origin.describe(token_endpoint_auth_method="private_key_jwt"))

    page = await driver.authorize(app, challenge=CHALLENGE)

    assert (page.status_code, _error_of(page)) == (
        400,
        "This app cannot be used: its client metadata document was refused: "
        "token_endpoint_auth_method private_key_jwt is not supported.",
    )


async def test_a_cacheable_document_is_fetched_once(driver, alice, origin):
    app = _app(origin.describe())

    for _ in range(2):
        assert (await driver.authorize(app, challenge=CHALLENGE)).status_code == 200

    assert origin.fetches == 1


async def test_a_no_store_document_is_fetched_every_time(driver, alice, origin):
    origin.cache_control = "no-store"
    app = _app(origin.describe())

    for _ in range(2):
        assert (await driver.authorize(app, challenge=CHALLENGE)).status_code == 200

    assert origin.fetches == 2


async def test_metadata_says_client_id_metadata_documents_are_supported(http):
    metadata = (await http.get("/.well-known/oauth-authorization-server")).json()

    assert metadata["client_id_metadata_document_supported"] is True


async def test_an_app_named_by_its_document_can_be_revoked_under_connected_apps(
    driver, alice, origin, http
):
    """Its client_id is a URL, slashes and all: the revoke link and form must still reach it
    (they answered 404 when the route took one path segment)."""
    app = _app(origin.describe())
    auth = await driver.authorize_and_approve(app)
    issued = (await driver.exchange(app, auth, form=True)).json()
    listing = await http.get("/settings/connected-apps")
    [link] = re.findall(r'href="(/settings/connected-apps/[^"]+/revoke)"', listing.text)
    assert unquote(html.unescape(link)) == f"/settings/connected-apps/{app.client_id}/revoke"

    question = await http.get(html.unescape(link))
    assert question.status_code == 200, question.text[:300]
    assert "Revoke access for Assistant Host?" in question.text
    [action] = re.findall(r'<form method="post" action="([^"]+)"', question.text)
    done = await Portal(http).post(html.unescape(action), [("confirm", "revoke")], question.text)

    assert (done.status_code, done.headers["location"]) == (
        303,
        "/settings/connected-apps?revoked=1",
    )
    assert (await driver.me(issued["access_token"])).status_code == 401
    assert "Assistant Host" not in (await http.get("/settings/connected-apps")).text
