"""The consent page's form-action names the app's one redirect target and nothing else."""

from __future__ import annotations

import pytest

from piksend.web.security import consent_csp


def form_action(csp: str) -> str:
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    return directives["form-action"]


@pytest.mark.parametrize(
    ("redirect_uri", "expected"),
    [
        ("https://app.example.com/cb?x=1", "'self' https://app.example.com"),
        ("http://127.0.0.1:53127/callback", "'self' http://127.0.0.1:53127"),
        ("https://[::1]:8443/cb", "'self' https://[::1]:8443"),
        ("com.example.photos:/oauth2redirect", "'self' com.example.photos:"),
        ("https://user@app.example.com/cb", "'self' https://app.example.com"),
    ],
)
def test_form_action_allows_only_this_server_and_the_redirect_target(redirect_uri, expected):
    assert form_action(consent_csp(redirect_uri)) == expected


@pytest.mark.parametrize(
    "redirect_uri", ["https://a.example.com;script-src *", "bad scheme!:/x", "https://a b/c"]
)
def test_a_redirect_that_would_inject_a_directive_allows_only_this_server(redirect_uri):
    csp = consent_csp(redirect_uri)
    assert form_action(csp) == "'self'"
    assert csp.count(";") == consent_csp("https://a.example.com/").count(";")
