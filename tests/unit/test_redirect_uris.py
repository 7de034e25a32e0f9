"""Redirect URI rules: RFC 6749 §3.1.2, RFC 9700 §4.1.3 (exact match), RFC 8252 §7.1 (private-use
schemes, public apps only), §7.3 (loopback)."""

from __future__ import annotations

import pytest

from piksend.oauth import redirect_uris
from piksend.oauth.redirect_uris import matches, origin_of, origin_registered, registration_problem
from piksend.oauth.types import ClientType

HTTPS_ONLY = "Redirect URI must use https (http is allowed only for localhost, 127.0.0.1 and [::1])"


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/callback",
        "https://app.example.com/callback?source=piksend",
        "http://localhost:3000/callback",
        "http://127.0.0.1:5000/callback",
        "http://[::1]:8080/cb",
        "https://app.example.com:8443/cb",
    ],
)
def test_acceptable_redirect_uris(uri):
    assert registration_problem(uri) is None


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("/callback", "Redirect URI must be an absolute URL"),
        ("app.example.com/callback", "Redirect URI must be an absolute URL"),
        ("https://app.example.com/cb#frag", "Redirect URI must not contain a fragment"),
        ("https://*.example.com/cb", "Redirect URI must not contain wildcards"),
        ("http://app.example.com/cb", HTTPS_ONLY),
        ("http://localhost.evil.com/cb", HTTPS_ONLY),
        ("ftp://example.com/cb", HTTPS_ONLY),
        ("javascript:alert(1)", "Redirect URI must be an absolute URL"),
        ("https://user:pw@example.com/cb", "Redirect URI must not contain credentials"),
        ("https://example.com/a b", "Redirect URI must not contain spaces or control characters"),
        ("", "Redirect URI must not be empty or have surrounding spaces"),
        ("https://example.com/" + "a" * 2000, "Redirect URI must be at most 2000 characters"),
        ("https://example.com:99999/cb", "Redirect URI is not a valid URL"),
    ],
)
def test_unacceptable_redirect_uris(uri, problem):
    assert registration_problem(uri) == problem


@pytest.mark.parametrize(
    ("registered", "requested", "expected"),
    [
        ("https://app.example.com/callback", "https://app.example.com/callback", True),
        ("https://app.example.com/callback", "https://app.example.com/callback/", False),
        ("https://app.example.com/callback", "http://app.example.com/callback", False),
        ("https://app.example.com/callback", "https://app.example.com/Callback", False),
        ("https://app.example.com/callback", "https://app.example.com:443/callback", False),
        ("https://app.example.com/callback", "https://app.example.com/callback?x=1", False),
        ("https://app.example.com/callback", "https://APP.example.com/callback", False),
        ("http://localhost:3000/callback", "http://localhost:3001/callback", False),
        # RFC 8252 §7.3: loopback IP literals match on any port
        ("http://127.0.0.1:5000/callback", "http://127.0.0.1:61234/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:61234/callback", True),
        ("http://[::1]:8080/cb", "http://[::1]:9090/cb", True),
        ("http://127.0.0.1:5000/callback", "http://127.0.0.1:61234/other", False),
        ("http://127.0.0.1:5000/callback", "https://127.0.0.1:61234/callback", False),
        ("http://127.0.0.1:5000/callback", "http://127.0.0.1:6/callback#x", False),
        ("http://127.0.0.1:5000/callback", "http://127.0.0.2:5000/callback", False),
        ("http://127.0.0.1:5000/callback", "http://x@127.0.0.1:5000/callback", False),
        ("http://127.0.0.1:5000/cb", "http://127.0.0.1:notaport/cb", False),
    ],
)
def test_request_time_matching(registered, requested, expected):
    assert matches(registered, requested) is expected


PRIVATE_USE_FOR_PUBLIC_ONLY = (
    "A private-use scheme redirect URI (like com.example.app:/callback) is only for apps that "
    "run in a browser or on a device: make this app public, or use an https redirect URI"
)


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.photos:/oauth2redirect",
        "com.example.photos:/oauth2redirect?from=piksend",
        "io.github.alice-b.app:/cb",
        "http://127.0.0.1/callback",
        "https://photos.example.com/app/callback",
    ],
)
def test_a_public_app_may_register_private_use_loopback_and_claimed_https_redirects(uri):
    assert registration_problem(uri, ClientType.PUBLIC) is None


@pytest.mark.parametrize(
    "uri", ["com.example.photos:/oauth2redirect", "io.github.alice.app:/cb?x=1"]
)
def test_a_confidential_app_registering_a_private_use_scheme_is_told_the_fix(uri):
    assert registration_problem(uri, ClientType.CONFIDENTIAL) == PRIVATE_USE_FOR_PUBLIC_ONLY


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (
            "com.example.photos://oauth2redirect",
            "A private-use scheme redirect URI takes a single slash after the scheme, "
            "like com.example.photos:/callback",
        ),
        (
            "com.example.photos:oauth2redirect",
            "A private-use scheme redirect URI takes a single slash after the scheme, "
            "like com.example.photos:/callback",
        ),
        ("com.example.photos:/cb#x", "Redirect URI must not contain a fragment"),
        ("photos:/oauth2redirect", "Redirect URI must be an absolute URL"),
        ("Com.Example.Photos:/cb", "Redirect URI must be an absolute URL"),
        ("com.-example.photos:/cb", "Redirect URI must be an absolute URL"),
        ("javascript:alert(1)", "Redirect URI must be an absolute URL"),
        ("data:text/html,x", "Redirect URI must be an absolute URL"),
        ("http://app.example.com/cb", HTTPS_ONLY),
    ],
)
def test_a_public_app_still_gets_every_other_rule(uri, problem):
    assert registration_problem(uri, ClientType.PUBLIC) == problem


def test_a_private_use_redirect_matches_only_exactly():
    registered = "com.example.photos:/oauth2redirect"
    assert (
        matches(registered, registered),
        matches(registered, "com.example.photos:/oauth2redirect/"),
        matches(registered, "com.example.photos://oauth2redirect"),
        matches(registered, "com.example.photo:/oauth2redirect"),
    ) == (True, False, False, False)


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://spa.example.com/callback?x=1", "https://spa.example.com"),
        ("https://SPA.example.com:443/cb", "https://spa.example.com"),
        ("https://spa.example.com:8443/cb", "https://spa.example.com:8443"),
        ("http://127.0.0.1:5000/cb", "http://127.0.0.1:5000"),
        ("http://[::1]/cb", "http://[::1]"),
        ("com.example.photos:/oauth2redirect", None),
        ("https://example.com:99999/cb", None),
    ],
)
def test_the_origin_of_a_redirect_uri(uri, origin):
    assert origin_of(uri) == origin


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://spa.example.com", True),
        ("https://spa.example.com:8443", False),
        ("http://spa.example.com", False),
        ("https://spa.example.com/", False),
        ("http://127.0.0.1:5173", True),
        ("http://[::1]:5173", False),
        ("http://localhost:5173", False),
        ("null", False),
        # Not an Origin as a browser sends it (RFC 6454 §6.2: no path, no default port), even
        # where a loopback IP's any-port rule would otherwise match.
        ("http://127.0.0.1:5173/", False),
        ("http://127.0.0.1:5173/cb", False),
        ("http://127.0.0.1:80", False),
    ],
)
def test_an_origin_is_allowed_where_a_redirect_lands_and_loopback_ips_on_any_port(origin, allowed):
    registered = ("https://spa.example.com/callback", "http://127.0.0.1/cb", "com.example.a:/cb")
    assert origin_registered(origin, registered) is allowed


# Exact rules the mutation check found unpinned (RFC 3986 §3, RFC 8252 §7.1 and §7.3, RFC 6454).


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("https://a.example/" + "a" * 1983, "Redirect URI must be at most 2000 characters"),
        ("https://a.example/\x7f", "Redirect URI must not contain spaces or control characters"),
        ("https://:80/cb", "Redirect URI must be an absolute URL"),
        ("//a.example/cb", "Redirect URI must be an absolute URL"),
        ("https://u@a.example/cb", "Redirect URI must not contain credentials"),
    ],
)
def test_registration_problems_are_named_exactly(uri, problem):
    assert redirect_uris.registration_problem(uri) == problem


def test_the_longest_uri_and_a_printable_character_above_space_are_accepted():
    assert redirect_uris.registration_problem("https://a.example/" + "a" * 1982) is None
    assert redirect_uris.registration_problem("https://a.example/!x") is None


def test_a_private_use_scheme_ends_at_the_first_colon():
    assert redirect_uris.private_use_scheme("com.example.app:/cb:x") == "com.example.app"


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("http://a.example:80/x", "http://a.example"),
        ("http://a.example:443/x", "http://a.example:443"),
        ("https://a.example:443/x", "https://a.example"),
        ("ftp://a.example/x", None),
    ],
)
def test_an_origin_omits_only_its_schemes_default_port(uri, origin):
    assert redirect_uris.origin_of(uri) == origin


def test_any_port_of_a_loopback_ip_is_the_same_origin_only_over_http():
    registered = ("https://127.0.0.1:4000/cb", "http://127.0.0.1:4000/cb")
    assert redirect_uris.origin_registered("https://127.0.0.1:3000", registered[:1]) is False
    assert redirect_uris.origin_registered("http://127.0.0.1:3000", registered[1:]) is True
    assert redirect_uris.origin_registered("https://127.0.0.1:4000", registered) is True


@pytest.mark.parametrize(
    ("origin", "prefix"),
    [
        ("https://spa.example.com", "https://spa.example.com"),
        ("https://spa.example.com:8443", "https://spa.example.com:8443"),
        ("http://localhost:5173", "http://localhost:5173"),
        # RFC 8252 §7.3: a loopback IP literal's redirect URIs match on any port, so the
        # prefix leaves the port out.
        ("http://127.0.0.1:5173", "http://127.0.0.1"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("http://[::1]:8080", "http://[::1]"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
        ("https://spa.example.com/", None),
        ("http://127.0.0.1:80", None),
        ("null", None),
    ],
)
def test_the_search_prefix_of_an_origin_is_what_its_redirect_uris_start_with(origin, prefix):
    assert redirect_uris.origin_search_prefix(origin) == prefix
