"""Checks on URLs that users and apps supply (webhook targets, client metadata documents) against
server-side request forgery (SSRF).

``target_problem`` validates the URL's syntax when it is registered.
``resolve_and_check`` resolves the host right before delivery and refuses it if any
address is not publicly routable. It returns the checked addresses so the caller can
connect to exactly those, which defeats DNS rebinding between check and use.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6052 well-known NAT64 prefix: the last 32 bits are an IPv4 address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeTarget(Exception):
    """The target is not allowed. ``message`` is safe to show to whoever typed the URL at
    registration; once resolved it may name an internal address, so at delivery it is for the
    server's log only (issue 15, item 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def target_problem(url: str, *, allow_private: bool) -> str | None:
    """Return why ``url`` is not an acceptable target, or None if its syntax is fine.

    Plain http is accepted only when ``allow_private`` is set (local development).
    """
    if len(url) > MAX_URL_LENGTH:
        return f"URL must be at most {MAX_URL_LENGTH} characters"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in url):
        return "URL must not contain whitespace, control characters or backslashes"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "URL is not valid"
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_private):
        return "URL must use https"
    if "@" in parts.netloc:
        return "URL must not contain a username or password"
    if not parts.hostname:
        return "URL must include a host"
    if port == 0:
        return "URL port is not valid"
    if "#" in url:
        return "URL must not contain a fragment"
    return None


async def resolve_and_check(url: str, *, allow_private: bool) -> list[str]:
    """Resolve the URL's host and return its addresses, all of them checked.

    Raises ``UnsafeTarget`` if the URL is invalid, the host cannot be resolved, or (unless
    ``allow_private``) any address is private, loopback, link-local, multicast, reserved or
    unspecified, including such IPv4 addresses embedded in IPv6 ones.
    """
    problem = target_problem(url, allow_private=allow_private)
    if problem is not None:
        raise UnsafeTarget(problem)
    parts = urlsplit(url)
    host = parts.hostname
    if not host:  # already refused by target_problem; keeps the type checker informed
        raise UnsafeTarget("URL must include a host")
    literal = _parse_ip(host)
    if literal is not None:
        addresses = [literal]
    else:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = await _resolve(host, port)
    if not allow_private:
        for address in addresses:
            if is_forbidden(address):
                raise UnsafeTarget(f"host resolves to a non-public address ({address})")
    return [str(address) for address in addresses]


def is_forbidden(address: IPAddress) -> bool:
    """True unless ``address`` is a publicly routable unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4-mapped or NAT64 address reaches its embedded IPv4 address: judge that one.
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_forbidden(embedded)
        sixtofour = address.sixtofour
        if sixtofour is not None and is_forbidden(sixtofour):
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def _resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget("could not resolve host") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = _parse_ip(str(info[4][0]))
        if address is None:
            raise UnsafeTarget("could not resolve host")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeTarget("could not resolve host")
    return addresses


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
