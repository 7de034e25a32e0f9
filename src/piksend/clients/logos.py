"""App logos served by piksend (issue 15, item 8): no consent screen hot-links a developer's server.

An app's logo URL is fetched once — the first time its logo is asked for after the URL was set
or changed — through the one SSRF-safe fetcher (``piksend.fetch.http.fetch_url``: checked
addresses, no redirects, size and time limits). The bytes are decoded by Pillow with only the
JPEG, PNG, GIF and WebP decoders, refused above ``MAX_PIXELS`` before any pixel is decoded
(a decompression bomb), and re-encoded as a PNG of at most ``size`` pixels a side, stored in
``client_logos``. A fetch that fails, or bytes that are not such an image, are remembered too
(no PNG): the app then shows its letter avatar, an SVG made here, as does an app with no logo.
The page links ``/apps/{client_id}/logo.png?v=<version>``, whose version changes with the logo
URL and the name, so the answer may be cached for a year (RFC 9111 §5.2.2.1, RFC 8246).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.fetch.http import FetchError, fetch_url
from piksend.storage import tables as t
from piksend.storage.engine import Database

log = logging.getLogger("piksend.clients.logos")
MAX_PIXELS = 4096 * 4096  # far above any logo; refused before decoding
_DECODERS = ("JPEG", "PNG", "GIF", "WEBP")
_ACCEPT = "image/png, image/jpeg, image/gif, image/webp"
PNG = "image/png"
SVG = "image/svg+xml"
_COLOURS = ("#3b5bdb", "#2b8a3e", "#c2255c", "#e8590c", "#5f3dc4", "#0b7285", "#495057")


@dataclass(frozen=True)
class LogoPolicy:
    timeout: float = 5.0
    max_bytes: int = 1024 * 1024
    size: int = 128
    allow_private: bool = False  # the development setting shared with webhooks


@dataclass(frozen=True)
class Logo:
    """What ``/apps/{client_id}/logo.png`` answers: a PNG of the app's logo, or its avatar."""

    content_type: str
    body: bytes
    version: str  # of the name and logo URL it was made for


class NotAnImage(Exception):
    """The fetched bytes are not an image piksend will re-encode."""


def version(name: str, logo_url: str | None) -> str:
    """Changes whenever what the logo URL shows may change: the logo URL or the app's name."""
    return hashlib.sha256(f"{logo_url or ''}\0{name}".encode()).hexdigest()[:16]


def logo_path(client_id: str, name: str, logo_url: str | None) -> str:
    """Where a page shows an app's logo (or its letter avatar), served by piksend."""
    return f"/apps/{quote(client_id, safe='')}/logo.png?v={version(name, logo_url)}"


def fetchable(url: str | None, *, allow_private: bool) -> bool:
    """https URLs with a host; plain http only under the development setting (loopback tests)."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    allowed = ("https", "http") if allow_private else ("https",)
    return parts.scheme in allowed and bool(parts.hostname)


def reencode(body: bytes, size: int) -> bytes:
    """A PNG of at most ``size`` pixels a side from JPEG, PNG, GIF or WebP ``body``, or raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(body), formats=_DECODERS) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    raise NotAnImage(f"{width}x{height} pixels is too many")
                image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale
                image.seek(0)  # the first frame of an animation
                frame = image.convert("RGBA")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
            raise NotAnImage(type(exc).__name__) from exc
    frame.thumbnail((size, size))
    out = io.BytesIO()
    frame.save(out, format="PNG", optimize=True)
    return out.getvalue()


def letter_avatar(name: str) -> bytes:
    """A square SVG with the name's first letter or digit on a colour picked by the name."""
    initial = next((c for c in name if c.isalnum()), "?").upper()
    colour = _COLOURS[hashlib.sha256(name.encode()).digest()[0] % len(_COLOURS)]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="{colour}"/>'
        '<text x="32" y="43" font-family="sans-serif" font-size="30" font-weight="bold" '
        f'fill="#ffffff" text-anchor="middle">{escape(initial)}</text></svg>'
    ).encode()


async def fetch_png(url: str, policy: LogoPolicy) -> bytes | None:
    """The logo at ``url`` as a small PNG, or None when it cannot be fetched or is no image."""
    try:
        fetched = await fetch_url(
            url,
            max_bytes=policy.max_bytes,
            timeout=policy.timeout,
            allow_private=policy.allow_private,
            accept=_ACCEPT,
        )
    except FetchError as exc:
        log.info("logo not fetched: %s", exc.message)  # the message never names an address
        return None
    if fetched.status != 200:
        log.info("logo not fetched: status %s", fetched.status)
        return None
    try:
        return await asyncio.to_thread(reencode, fetched.body, policy.size)
    except NotAnImage as exc:
        log.info("logo refused: not an image (%s)", exc)
        return None


async def stored(session: AsyncSession, client_id: str) -> tuple[t.Client, t.ClientLogo | None]:
    """The app and its stored logo row; raises LookupError for no such app."""
    client = await session.get(t.Client, client_id) if len(client_id) <= 255 else None
    if client is None:
        raise LookupError(client_id)
    return client, await session.get(t.ClientLogo, client_id)


async def record(
    session: AsyncSession, client_id: str, source_url: str, png: bytes | None, now: datetime
) -> None:
    """Keep the outcome of fetching ``source_url``; a concurrent fetch of the same URL writes
    the same outcome, so the last writer wins harmlessly."""
    row = await session.get(t.ClientLogo, client_id)
    if row is None:
        row = t.ClientLogo(client_id=client_id, source_url=source_url, fetched_at=now)
        session.add(row)
    row.source_url, row.fetched_at, row.png = source_url, now, png
    row.digest = hashlib.sha256(png).hexdigest() if png is not None else None
    await session.flush()


def _answer(name: str, url: str | None, png: bytes | None) -> Logo:
    if png is None:
        return Logo(SVG, letter_avatar(name), version(name, url))
    return Logo(PNG, png, version(name, url))


async def logo_for(db: Database, client_id: str, policy: LogoPolicy, now: datetime) -> Logo | None:
    """The app's logo as piksend serves it, fetching its logo URL if it was never fetched;
    None for no such app. No database unit is held open while the URL is fetched."""
    async with db.unit_of_work() as s:
        try:
            client, row = await stored(s, client_id)
        except LookupError:
            return None
        name, url = client.name, client.logo_url
        if url is None or not fetchable(url, allow_private=policy.allow_private):
            return _answer(name, url, None)
        if row is not None and row.source_url == url:
            return _answer(name, url, row.png)
    png = await fetch_png(url, policy)
    async with db.unit_of_work() as s:
        current = await s.get(t.Client, client_id)
        if current is not None and current.logo_url == url:  # not changed while fetching
            await record(s, client_id, url, png, now)
    return _answer(name, url, png)
