"""Redirect URIs: registration rules and request-time matching.

RFC 6749 §3.1.2 (absolute, no fragment), RFC 9700 §2.1 and §4.1.3 (exact string matching),
RFC 8252 §7.1 (private-use URI schemes in reverse-domain form, for native apps: public clients
only here), §7.2 (claimed https redirects: ordinary https URIs), §7.3 and §8.3 (loopback IP
redirect URIs match on any port; http only there).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from piksend.oauth.types import ClientType

MAX_LENGTH = 2000
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
LOOPBACK_IPS = frozenset({"127.0.0.1", "::1"})
# RFC 8252 §7.1: a domain name the app's developer controls, in reverse order, e.g.
# com.example.photos; at least two labels, so no bare scheme (javascript, data, file) fits.
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_REVERSE_DOMAIN_SCHEME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
HTTPS_ONLY = "Redirect URI must use https (http is allowed only for localhost, 127.0.0.1 and [::1])"
PRIVATE_USE_FOR_PUBLIC_ONLY = (
    "A private-use scheme redirect URI (like com.example.app:/callback) is only for apps that "
    "run in a browser or on a device: make this app public, or use an https redirect URI"
)


def private_use_scheme(uri: str) -> str | None:
    """The scheme of ``uri`` when it has a reverse-domain scheme (RFC 8252 §7.1), else None."""
    scheme, sep, _ = uri.partition(":")
    if sep and _REVERSE_DOMAIN_SCHEME.fullmatch(scheme):
        return scheme
    return None


def _private_use_problem(uri: str, scheme: str, client_type: ClientType) -> str | None:
    rest = uri[len(scheme) + 1 :]
    # RFC 8252 §7.1 with RFC 3986 §3.2: no naming authority, so a single slash follows.
    if not rest.startswith("/") or rest.startswith("//"):
        return (
            "A private-use scheme redirect URI takes a single slash after the scheme, "
            f"like {scheme}:/callback"
        )
    if "#" in uri:
        return "Redirect URI must not contain a fragment"
    if client_type is not ClientType.PUBLIC:
        return PRIVATE_USE_FOR_PUBLIC_ONLY
    return None


def registration_problem(uri: str, client_type: ClientType = ClientType.CONFIDENTIAL) -> str | None:
    """Why ``uri`` cannot be registered for a client of ``client_type``, or None when it can."""
    if not uri or uri != uri.strip():
        return "Redirect URI must not be empty or have surrounding spaces"
    if len(uri) > MAX_LENGTH:
        return f"Redirect URI must be at most {MAX_LENGTH} characters"
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in uri):
        return "Redirect URI must not contain spaces or control characters"
    if "*" in uri:
        return "Redirect URI must not contain wildcards"
    if (scheme := private_use_scheme(uri)) is not None:
        return _private_use_problem(uri, scheme, client_type)
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return "Redirect URI is not a valid URL"
    del port
    if not parts.scheme or not parts.netloc or not parts.hostname:
        return "Redirect URI must be an absolute URL"
    if "#" in uri:
        return "Redirect URI must not contain a fragment"
    if parts.username is not None or parts.password is not None:
        return "Redirect URI must not contain credentials"
    scheme = parts.scheme.lower()
    if scheme == "https":
        return None
    if scheme == "http":
        if parts.hostname.lower() in LOOPBACK_HOSTS:
            return None
        return HTTPS_ONLY
    return HTTPS_ONLY


def matches(registered: str, requested: str) -> bool:
    """RFC 9700 §4.1.3: exact string comparison, except RFC 8252 §7.3 loopback ports."""
    if registered == requested:
        return True
    try:
        reg, req = urlsplit(registered), urlsplit(requested)
        if reg.scheme != "http" or reg.hostname not in LOOPBACK_IPS:
            return False
        req_port = req.port
    except ValueError:
        return False
    del req_port
    return (
        req.scheme == "http"
        and req.hostname == reg.hostname
        and req.path == reg.path
        and req.query == reg.query
        and req.fragment == ""
        and req.username is None
        and req.password is None
        and requested.startswith(f"http://{_host_literal(reg.hostname)}")
    )


def _host_literal(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def find_registered(registered: tuple[str, ...], requested: str) -> str | None:
    for uri in registered:
        if matches(uri, requested):
            return requested
    return None


def origin_of(uri: str) -> str | None:
    """The serialized origin (RFC 6454 §6.2) of an http(s) URI, default port omitted; None for
    anything else (a private-use scheme has no web origin, a malformed URI none either)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host:
        return None
    default = 443 if scheme == "https" else 80
    suffix = "" if port in (None, default) else f":{port}"
    return f"{scheme}://{_host_literal(host)}{suffix}"


def is_origin(value: str) -> bool:
    """Whether ``value`` is an http(s) origin exactly as a browser sends it in ``Origin``."""
    return origin_of(value) == value


def origin_registered(origin: str, registered: tuple[str, ...]) -> bool:
    """Whether a page at ``origin`` is where one of the ``registered`` redirect URIs lands:
    the same origin, or for an http loopback IP literal any port of it (RFC 8252 §7.3, as
    ``matches`` does), so an app on a local dev server's port is served like its redirect."""
    if not is_origin(origin):
        return False
    loopback = _http_loopback_ip(origin)
    for uri in registered:
        candidate = origin_of(uri)
        if candidate == origin:
            return True
        if loopback and candidate and _http_loopback_ip(candidate) == loopback:
            return True
    return False


def origin_search_prefix(origin: str) -> str | None:
    """What every registered redirect URI at ``origin`` starts with (without the port for an
    http loopback IP literal, which matches any port); None when ``origin`` is no origin."""
    if not is_origin(origin):
        return None
    loopback = _http_loopback_ip(origin)
    return f"http://{_host_literal(loopback)}" if loopback else origin


def _http_loopback_ip(origin: str) -> str | None:
    host = urlsplit(origin).hostname
    return host if origin.startswith("http://") and host in LOOPBACK_IPS else None
