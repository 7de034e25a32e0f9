"""Redirect URIs: registration rules and request-time matching.

RFC 6749 §3.1.2 (absolute, no fragment), RFC 9700 §2.1 and §4.1.3 (exact string matching),
RFC 8252 §7.3 and §8.3 (loopback IP redirect URIs match on any port; http only there).
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
LOOPBACK_IPS = frozenset({"127.0.0.1", "::1"})


def registration_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered, or None when it can."""
    if not uri or uri != uri.strip():
        return "Redirect URI must not be empty or have surrounding spaces"
    if len(uri) > MAX_LENGTH:
        return f"Redirect URI must be at most {MAX_LENGTH} characters"
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in uri):
        return "Redirect URI must not contain spaces or control characters"
    if "*" in uri:
        return "Redirect URI must not contain wildcards"
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
        return (
            "Redirect URI must use https (http is allowed only for localhost, 127.0.0.1 and [::1])"
        )
    return "Redirect URI must use https (http is allowed only for localhost, 127.0.0.1 and [::1])"


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
