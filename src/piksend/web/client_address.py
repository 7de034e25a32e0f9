"""The client's address: the socket's peer, or X-Forwarded-For behind a trusted proxy.

RFC 7239 §5.2 / X-Forwarded-For: each proxy appends the address it received the request
from, so only the entries appended by proxies we trust can be believed. Walking the list
from the right, past every trusted proxy, the first address that is not one is the client
(the right-most untrusted hop); anything to its left was written by the client itself and is
ignored. Without ``PIKSEND_TRUSTED_PROXIES`` the header is never read. Every place that needs
a client's address calls ``client_address`` (or ``client_network`` to count by it).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

from piksend.web.context import ctx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# One party commonly holds a whole IPv6 /64 (RFC 4291 §2.5.4, RFC 7421): counting by the
# single address would give an attacker 2^64 fresh budgets.
IPV6_BLOCK = 64


@lru_cache(maxsize=8)
def trusted_networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def _parse(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def address_from(peer: str, forwarded_for: list[str], trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address, given the socket's peer and every X-Forwarded-For header."""
    address = _parse(peer)
    if address is None:
        return peer or "unknown"
    if not _trusted(address, trusted):
        return str(address)
    # RFC 9110 §5.3: repeated header lines are one comma-separated list, in order.
    hops = [hop for line in forwarded_for for hop in line.split(",")]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break  # not an address: the nearest trusted hop is all that is known
        address = parsed
        if not _trusted(parsed, trusted):
            break
    return str(address)


def client_address(request: Request) -> str:
    peer = request.client.host if request.client else ""
    trusted = trusted_networks(ctx(request).settings.trusted_proxies)
    return address_from(peer, request.headers.getlist("x-forwarded-for"), trusted)


def network_of(address: str) -> str:
    """What one party controls: an IPv4 address, or the /64 an IPv6 address is in."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_BLOCK}", strict=False))
    return str(parsed) if parsed is not None else address


def client_network(request: Request) -> str:
    """The client's address as counted by rate limits (``network_of``)."""
    return network_of(client_address(request))
