"""A browser's User-Agent header as a person reads it: "Firefox on Linux", "Safari on iPhone".

Our own small parser, no dependency: the header is the client's to write (RFC 9110 §10.1.5
calls it a product list, nothing more), so it is read only to label a session for its owner,
never to decide anything. Tokens are tried in order, since most browsers claim others' names
too (Chrome says "Safari", Edge and Opera say "Chrome"); anything not recognised is said to
be unknown rather than guessed.
"""

from __future__ import annotations

import re

UNKNOWN_BROWSER = "Unknown browser"
UNKNOWN_SYSTEM = "an unknown system"

# (pattern in the header, name): the first match wins, so the most specific comes first.
_BROWSERS = (
    (re.compile(r"\bEdg(?:e|A|iOS)?/\d"), "Edge"),
    (re.compile(r"\b(?:OPR|Opera)/\d"), "Opera"),
    (re.compile(r"\bSamsungBrowser/\d"), "Samsung Internet"),
    (re.compile(r"\bVivaldi/\d"), "Vivaldi"),
    (re.compile(r"\b(?:Firefox|FxiOS)/\d"), "Firefox"),
    (re.compile(r"\b(?:HeadlessChrome|Chrome|Chromium|CriOS)/\d"), "Chrome"),
    (re.compile(r"\bVersion/\d[\d.]* (?:Mobile/\w+ )?Safari/\d"), "Safari"),
    (re.compile(r"^curl/\d"), "curl"),
    (re.compile(r"^python-(?:httpx|requests)/\d"), "a Python program"),
)
_SYSTEMS = (
    (re.compile(r"\biPhone\b"), "iPhone"),
    (re.compile(r"\biPad\b"), "iPad"),
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bMac OS X\b|\bMacintosh\b"), "macOS"),
    (re.compile(r"\bLinux\b|\bX11\b"), "Linux"),
)
MAX_HEADER = 512  # longer is read no further (a real browser's is ~150 characters)


def describe(user_agent: str | None) -> str:
    """ "<browser> on <system>", or "Unknown browser" (with the system when that is known)."""
    header = (user_agent or "")[:MAX_HEADER]
    browser = next((name for pattern, name in _BROWSERS if pattern.search(header)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(header)), None)
    if browser is None:
        return f"{UNKNOWN_BROWSER} on {system}" if system else UNKNOWN_BROWSER
    return f"{browser} on {system}" if system else browser
