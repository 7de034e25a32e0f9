"""https mode: with an https public URL every cookie is ``Secure`` and ``__Host-`` prefixed.

RFC 6265bis §4.1.3.2: a ``__Host-`` cookie is set with ``Secure``, ``Path=/`` and no ``Domain``,
so no other host or plain-http page can plant or read it. The public URL decides (the server
itself speaks plain HTTP behind a TLS-terminating proxy): first through the app in process, then
a real ``piksend serve`` behind a TLS-terminating test proxy, as it is deployed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import re
import ssl
import threading
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
import requests

from piksend.app import create_app
from tests.support.driver import csrf_of
from tests.support.live import live_server

HTTPS_ISSUER = "https://auth.example.test"


def cookies_of(response) -> dict[str, dict[str, str | bool]]:
    """Every Set-Cookie of ``response`` by name: its attributes, lower-cased."""
    found: dict[str, dict[str, str | bool]] = {}
    headers = response.headers  # httpx's, or requests' raw ones (which keep each Set-Cookie)
    listed = headers.get_list if hasattr(headers, "get_list") else response.raw.headers.getlist
    for header in listed("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            found[name] = {k: v for k, v in morsel.items() if v}
    return found


HOST_COOKIE = {"path": "/", "secure": True, "httponly": True, "samesite": "lax"}


@pytest.fixture
async def https(settings, clock):
    application = create_app(settings.with_(public_url=HTTPS_ISSUER), clock=clock)
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=HTTPS_ISSUER) as client:
        yield client
    await application.state.ctx.db.dispose()


async def sign_up_and_in(http: httpx.AsyncClient) -> httpx.Response:
    page = await http.get("/signup")
    signed_up = await http.post(
        "/signup",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "Alice",
            "email": "alice@example.com",
            "password": "correct horse",
        },
    )
    assert signed_up.status_code == 200, signed_up.text[:300]
    page = await http.get("/login")
    return await http.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "alice@example.com",
            "password": "correct horse",
        },
    )


async def test_with_an_https_public_url_the_csrf_cookie_is_secure_and_host_prefixed(https):
    page = await https.get("/login")
    assert page.status_code == 200
    cookies = cookies_of(page)
    assert set(cookies) == {"__Host-piksend_csrf"}
    assert cookies["__Host-piksend_csrf"] == HOST_COOKIE


async def test_with_an_https_public_url_the_session_cookie_is_secure_and_host_prefixed(https):
    signed_in = await sign_up_and_in(https)
    assert signed_in.status_code == 303, signed_in.text[:300]
    cookies = cookies_of(signed_in)
    assert [name for name in cookies if not name.startswith("__Host-")] == []
    assert {name for name, attrs in cookies.items() if attrs.get("secure") is not True} == set()
    assert cookies["__Host-piksend_session"] == {
        **HOST_COOKIE,
        "max-age": cookies["__Host-piksend_session"]["max-age"],
    }
    # the prefixed cookie is the one the server reads back: the account page opens
    assert (await https.get("/settings/connected-apps")).status_code == 200


async def test_with_an_http_public_url_cookies_carry_neither_secure_nor_the_prefix(http):
    page = await http.get("/login")
    assert cookies_of(page) == {"piksend_csrf": {"path": "/", "httponly": True, "samesite": "lax"}}


async def test_with_an_https_public_url_the_issuer_and_endpoints_are_https(https):
    metadata = (await https.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == HTTPS_ISSUER
    assert metadata["token_endpoint"] == f"{HTTPS_ISSUER}/api/oauth/token"


# A real server behind a TLS-terminating proxy.


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "proxy.pem", directory / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsProxy:
    """Terminates TLS on a loopback port and pipes the plain bytes to ``backend_port``."""

    def __init__(self, backend_port: int, cert: Path, key: Path) -> None:
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> TlsProxy:
        self.thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0, ssl=self.context), self.loop
        )
        self.server = started.result(timeout=10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            self.server.close()
            pipes = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pipes:  # connections the client kept alive
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                dst.close()

        with contextlib.suppress(asyncio.CancelledError):  # the proxy stopping
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.mark.live
def test_a_server_behind_a_tls_proxy_sets_only_secure_host_cookies_and_signs_in(tmp_path):
    from tests.support.live import free_port

    cert, key = self_signed(tmp_path)
    backend = free_port()
    with TlsProxy(backend, cert, key) as proxy:
        public = f"https://127.0.0.1:{proxy.port}"
        with live_server(
            tmp_path / "data",
            f"sqlite:///{tmp_path / 'https.db'}",
            port=backend,
            args=("--public-url", public),
        ) as server:
            server.cli(
                "users", "create", "--email", "tls@example.com", "--password", "tls-password-1"
            )
            browser = requests.Session()
            browser.trust_env = False  # no REQUESTS_CA_BUNDLE or proxy from the environment
            browser.verify = str(cert)
            metadata = browser.get(f"{public}/.well-known/oauth-authorization-server", timeout=10)
            assert metadata.json()["issuer"] == public
            page = browser.get(f"{public}/login", timeout=10)
            assert page.status_code == 200
            csrf_cookie = cookies_of(page)
            assert csrf_cookie == {"__Host-piksend_csrf": HOST_COOKIE}
            signed_in = browser.post(
                f"{public}/login",
                data={
                    "csrf_token": CSRF.search(page.text).group(1),
                    "email": "tls@example.com",
                    "password": "tls-password-1",
                },
                allow_redirects=False,
                timeout=10,
            )
            assert signed_in.status_code == 303, signed_in.text[:300]
            session = cookies_of(signed_in)["__Host-piksend_session"]
            assert {k: v for k, v in session.items() if k != "max-age"} == HOST_COOKIE
            held = {c.name: (c.secure, c.domain_specified, c.path) for c in browser.cookies}
            assert {"__Host-piksend_csrf", "__Host-piksend_session"} <= set(held)
            # every cookie the browser holds (a sign-in may add others) is a host cookie
            assert {
                name: value for name, value in held.items() if not name.startswith("__Host-")
            } == {}
            assert set(held.values()) == {(True, False, "/")}
            account = browser.get(
                f"{public}/settings/connected-apps", allow_redirects=False, timeout=10
            )
            assert account.status_code == 200
