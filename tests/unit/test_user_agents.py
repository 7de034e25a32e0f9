"""The User-Agent header as a person reads it (accounts/user_agents.py)."""

from __future__ import annotations

import pytest

from piksend.accounts.user_agents import describe

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("header", "text"),
    [
        (CHROME_LINUX, "Chrome on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            "Samsung Internet on Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
            "Opera on Linux",
        ),
        ("curl/8.5.0", "curl"),
    ],
)
def test_a_known_browser_is_named_with_its_system(header, text):
    assert describe(header) == text


@pytest.mark.parametrize(
    ("header", "text"),
    [
        (None, "Unknown browser"),
        ("", "Unknown browser"),
        ("SomethingNew/1.0", "Unknown browser"),
        ("Mozilla/5.0 (X11; Linux x86_64) Gecko", "Unknown browser on Linux"),
        ("Chrome" * 1000, "Unknown browser"),
    ],
)
def test_a_browser_it_does_not_recognise_is_said_to_be_unknown(header, text):
    assert describe(header) == text


def test_a_header_is_read_no_further_than_512_characters():
    assert describe("x" * 512 + " Firefox/133.0 (Windows)") == "Unknown browser"
