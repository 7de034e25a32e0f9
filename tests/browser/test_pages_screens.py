"""Every HTML page at 1280 and 390 px (issue 17, "Tests that must exist"): each page is
screenshotted into test-artifacts/screenshots/ and checked with axe-core (tests/node, injected by
Playwright) for no serious or critical violation. The pages are found from the app's own GET
routes, so a new page fails `test_every_html_get_route_is_covered_or_excluded_with_a_reason`
until it is added to VISITS or to EXCLUDED with the reason (never "it needs an object": the
`objects` fixture makes them).

A page that needs an object is visited on the objects the module makes once as the signed-in
user: an app registered through the portal form and connected through "Test your
integration", and a gallery with a photo and a share link. A page that exists only at the end
of a flow (a new secret, a test's callback, "check your inbox") is reached by its clicks. Each
visit is screenshotted before anything is asserted, so a failing page leaves its picture."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from fastapi.routing import iter_route_contexts

from piksend.app import create_app
from piksend.settings import Settings
from tests.browser.conftest import ARTIFACTS, sign_up
from tests.browser.test_gallery_pages import new_gallery, photo
from tests.browser.test_portal_confirmations_in_chromium import connect_own_app
from tests.browser.test_portal_pages import create_app as create_app_in_portal
from tests.support.pkce import pkce_pair
from tests.support.smtp import LINK, body_of

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ARTIFACTS / "screenshots"
WIDTHS = (1280, 390)
REDIRECT_URI = "https://app.example.com/cb"


@dataclass(frozen=True)
class Objects:
    """What the object pages are visited on, all the signed-in user's."""

    client_id: str  # a confidential app, connected (the user authorized it)
    gallery_id: str  # unlisted, with one photo
    share_token: str
    image_id: str
    verify_token: str  # from the sign-up's mail, still unused
    reset_token: str  # from a "forgot your password" mail, still unused


Reach = Callable[..., None]  # (page, objects): the clicks that end on the page


@dataclass(frozen=True)
class Visit:
    route: str  # the app's route this visit covers
    url: str  # where the page ends up, {client_id}-style fields filled from Objects
    signed_in: bool
    status: int = 200  # the page's own status, exactly
    state: str = ""  # a second look at a route already visited: what differs
    reach: Reach | None = None  # the page is reached by these clicks, not by a plain GET

    @property
    def name(self) -> str:
        return f"{self.route} ({self.state})" if self.state else self.route


def rotate_with_a_grace_period(page, objects: Objects) -> None:
    """The one-time secret page is reached by the rotation's POST-redirect-GET."""
    page.goto(f"/settings/oauth/{objects.client_id}")
    assert page.get_by_label("After 24 hours").is_checked()
    page.get_by_role("button", name="Rotate client secret").click()
    page.wait_for_url(f"**/settings/oauth/{objects.client_id}/secret")


def run_a_test_authorization(page, objects: Objects) -> None:
    """'Test your integration' up to its callback: a real request, approved on consent."""
    page.goto(f"/settings/oauth/{objects.client_id}/test")
    page.get_by_role("button", name="Start test authorization").click()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/settings/oauth/test-callback?*")


def resend_the_verification_link(page, objects: Objects) -> None:
    page.goto("/settings/email")
    page.get_by_role("button", name="Send the verification link again").click()
    page.wait_for_url("**/settings/email/sent")


_, CHALLENGE = pkce_pair()
CONSENT_QUERY = urlencode(
    {
        "response_type": "code",
        "client_id": "{client_id}",
        "redirect_uri": REDIRECT_URI,
        "scope": "profile:read",
        "state": "pages-17",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    },
    safe="{}",
)
APP = "/settings/oauth/{client_id}"
GALLERY = "/galleries/{gallery_id}"
SHARED = "/g/{share_token}"

# Each visit of an HTML GET route: where, as whom, the exact status, and how it is reached.
VISITS = {
    visit.name: visit
    for visit in (
        Visit("/", "/", signed_in=False),
        Visit("/signup", "/signup", signed_in=False),
        Visit("/login", "/login", signed_in=False),
        Visit("/verify", "/verify?token={verify_token}", signed_in=False),
        Visit("/verify", "/verify", signed_in=False, status=400, state="no link"),
        Visit("/password/forgot", "/password/forgot", signed_in=False),
        Visit("/password/reset", "/password/reset?token={reset_token}", signed_in=False),
        Visit("/password/reset", "/password/reset", signed_in=False, status=400, state="no link"),
        Visit("/docs/oauth", "/docs/oauth", signed_in=False),
        Visit(
            "/api/oauth/authorize",
            "/api/oauth/authorize?client_id=unknown",
            signed_in=False,
            status=400,
            state="unknown app",
        ),
        # RFC 6749 §4.1.1: a valid request (with PKCE, RFC 7636 §4.3) from a signed-in user.
        Visit("/api/oauth/authorize", "/api/oauth/authorize?" + CONSENT_QUERY, signed_in=True),
        Visit("/settings/password", "/settings/password", signed_in=True),
        Visit("/settings/email", "/settings/email", signed_in=True),
        Visit(
            "/settings/email/sent",
            "/settings/email/sent",
            signed_in=True,
            reach=resend_the_verification_link,
        ),
        Visit("/settings/oauth", "/settings/oauth", signed_in=True),
        Visit("/settings/oauth/new", "/settings/oauth/new", signed_in=True),
        Visit(APP, APP, signed_in=True),
        Visit(APP, "/settings/oauth/pks_ci_nobody", signed_in=True, status=404, state="unknown"),
        Visit(APP + "/rotate", APP + "/rotate", signed_in=True),
        Visit(APP + "/secret", APP + "/secret", signed_in=True, reach=rotate_with_a_grace_period),
        Visit(APP + "/secret", APP + "/secret", signed_in=True, status=410, state="shown"),
        Visit(APP + "/test", APP + "/test", signed_in=True),
        Visit(
            "/settings/oauth/test-callback",
            "/settings/oauth/test-callback",
            signed_in=True,
            reach=run_a_test_authorization,
        ),
        Visit(APP + "/make-public", APP + "/make-public", signed_in=True),
        Visit(APP + "/delete", APP + "/delete", signed_in=True),
        Visit("/settings/connected-apps", "/settings/connected-apps", signed_in=True),
        Visit(
            "/settings/connected-apps/{client_id:path}/revoke",
            "/settings/connected-apps/{client_id}/revoke",
            signed_in=True,
        ),
        Visit("/settings/security", "/settings/security", signed_in=True),
        Visit("/galleries", "/galleries", signed_in=True),
        Visit("/galleries/new", "/galleries/new", signed_in=True),
        Visit("/galleries/stats", "/galleries/stats", signed_in=True),
        Visit(GALLERY, GALLERY, signed_in=True),
        Visit(GALLERY, "/galleries/999999", signed_in=True, status=404, state="unknown"),
        Visit(GALLERY + "/edit", GALLERY + "/edit", signed_in=True),
        Visit(GALLERY + "/delete", GALLERY + "/delete", signed_in=True),
        Visit(SHARED, SHARED, signed_in=False),
    )
}
# GET routes outside the OpenAPI document that are not pages, and why.
EXCLUDED = {
    "/api/openapi.json": "JSON: the OpenAPI document",
    "/api/docs": "vendored Swagger UI; tests/browser/test_api_docs.py renders it under the CSP",
    "/.well-known/oauth-protected-resource/api/v1": "JSON (RFC 9728 metadata)",
    "/.well-known/oauth-protected-resource/mcp": "JSON (RFC 9728 metadata)",
    "/api/v1/oauth/apps": "JSON (apps API)",
    "/api/v1/oauth/apps/{client_id}": "JSON (apps API)",
    "/healthz": "plain-text health check",
    "/readyz": "plain-text readiness check",
    "/metrics": "Prometheus text",
    "/settings/security/log.json": "JSON download of the security log",
    "/docs/oauth/examples/{name}": "example source files served as text",
    "/api/oauth/register/{client_id}": "JSON (RFC 7592 client read)",
    "/apps/{client_id:path}/logo.png": "PNG",
    "/g/{share_token}/thumbnails/{image_id}": "image bytes",
    "/g/{share_token}/images/{image_id}": "image bytes (inline): the photo itself, no page",
    "/g/{share_token}/images/{image_id}/download": "image bytes (attachment)",
    "/galleries/{gallery_id}/images/{image_id}/{variant}": "image bytes",
}


def html_get_routes(tmp_path: Path) -> set[str]:
    """The app's GET routes that are not in its OpenAPI document (the API and its metadata) and
    not a mount (static files): the pages, and whatever else must be excluded by name."""
    app = create_app(
        Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'routes.db'}",
            public_url="http://127.0.0.1:8000",
            secret_key="route-discovery-" + "x" * 32,
        )
    )
    documented = set(app.openapi()["paths"])
    return {
        context.path
        for context in iter_route_contexts(list(app.routes))
        if context.path is not None
        and context.methods
        and "GET" in context.methods
        and context.path not in documented
    }


def test_every_html_get_route_is_covered_or_excluded_with_a_reason(tmp_path):
    routes = html_get_routes(tmp_path)
    visited = {visit.route for visit in VISITS.values()}
    assert sorted(routes - visited - EXCLUDED.keys()) == [], "add them to VISITS or EXCLUDED"
    assert sorted((visited | EXCLUDED.keys()) - routes) == [], "these routes are gone"
    assert sorted(visited & EXCLUDED.keys()) == [], "visited and excluded at once"
    assert all(reason.strip() for reason in EXCLUDED.values())
    for visit in VISITS.values():  # a visit's URL is its route's path, its fields filled in
        pattern = re.sub(r"\\\{\w+(:path)?\\\}", r"[^/]+", re.escape(visit.route))
        assert re.fullmatch(pattern, urlsplit(visit.url).path), visit.name


@pytest.fixture(scope="module")
def signed_in_state(browser, live, tmp_path_factory):
    context = browser.new_context(base_url=live.url)
    page = context.new_page()
    sign_up(page, "pages@example.com", password="a long page password 17")
    path = tmp_path_factory.mktemp("state") / "state.json"
    context.storage_state(path=str(path))
    context.close()
    return str(path)


def mailed_token(outbox: Path, path: str, timeout: float = 30) -> str:
    """The token of the one link to ``path`` in the server's development outbox (.eml files)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            link
            for eml in outbox.glob("*.eml")
            for link in LINK.findall(
                body_of(message_from_bytes(eml.read_bytes(), policy=policy.default))
            )
            if urlsplit(link).path == path
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # the mail worker polls every 2 s
    assert len(found) == 1, f"links to {path} in {outbox}: {found}"
    return found[0].rsplit("token=", 1)[1]


@pytest.fixture(scope="module")
def objects(browser, live, signed_in_state) -> Objects:
    """Made once, through the pages themselves (without JavaScript: the plain forms)."""
    context = browser.new_context(
        base_url=live.url, storage_state=signed_in_state, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        client_id, secret = create_app_in_portal(page, name="Pages App", uris=(REDIRECT_URI,))
        connect_own_app(page, client_id, secret)
        gallery_url = new_gallery(page, "Pages gallery")
        page.get_by_label("Photos (JPEG, PNG, GIF or WebP)").set_input_files([photo("one.jpg")])
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("1 photo uploaded.").wait_for()
        page.get_by_label(re.compile("^Unlisted")).check()
        page.get_by_role("button", name="Save who can see it").click()
        page.get_by_text("Who can see the gallery was changed.").wait_for()
        share_link = page.locator("#share-link").inner_text()
        page.goto(share_link)
        image_href = page.locator("#main a[href*='/images/']").first.get_attribute("href")
        assert image_href is not None
        signed_out = browser.new_context(base_url=live.url, java_script_enabled=False)
        try:
            forgot = signed_out.new_page()
            forgot.goto("/password/forgot")
            forgot.get_by_label("Email").fill("pages@example.com")
            forgot.get_by_role("button", name="Send the link").click()
            forgot.get_by_role("heading", name="Check your inbox").wait_for()
        finally:
            signed_out.close()
        return Objects(
            client_id=client_id,
            gallery_id=urlsplit(gallery_url).path.rsplit("/", 1)[1],
            share_token=urlsplit(share_link).path.split("/")[2],
            image_id=image_href.rstrip("/").rsplit("/", 1)[1],
            verify_token=mailed_token(live.data_dir / "outbox", "/verify"),
            reset_token=mailed_token(live.data_dir / "outbox", "/password/reset"),
        )
    finally:
        context.close()


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3)"
        ".map(n => n.target.join(' ')).join(', ')))"
    )
    return list(result)


def look_at(browser, live, signed_in_state, objects: Objects, visit: Visit, width: int) -> dict:
    """Visit the page at one width: screenshot first, then what the assertions compare."""
    # Axe is injected as an inline script, which the page CSP (script-src 'self') refuses:
    # this context bypasses the CSP for it; the CSP itself is pinned by its own tests.
    context = browser.new_context(
        base_url=live.url,
        viewport={"width": width, "height": 900},
        bypass_csp=True,
        storage_state=signed_in_state if visit.signed_in else None,
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        statuses: list[int] = []
        page.on(
            "response",
            lambda r: (
                statuses.append(r.status)
                if r.request.is_navigation_request() and r.frame == page.main_frame
                else None
            ),
        )
        expected_url = visit.url.format(**vars(objects))
        if visit.reach is None:
            page.goto(expected_url)
        else:
            visit.reach(page, objects)
        name = re.sub(r"[^\w-]+", "_", visit.name.strip("/")).strip("_") or "home"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        return {
            "status": statuses[-1] if statuses else None,
            "path": urlsplit(page.url).path,  # not sent elsewhere (to sign in, say)
            "serious or critical": serious_violations(page),
            "wider than the screen": page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth"
            ),
        }
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.live
@pytest.mark.parametrize("name", sorted(VISITS))
def test_each_page_at_1280_and_390_px_has_no_serious_or_critical_axe_violation(
    browser, live, signed_in_state, objects, name
):
    visit = VISITS[name]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = {
        width: look_at(browser, live, signed_in_state, objects, visit, width) for width in WIDTHS
    }
    expected = {
        "status": visit.status,
        "path": urlsplit(visit.url.format(**vars(objects))).path,
        "serious or critical": [],
        "wider than the screen": False,
    }
    assert found == {width: expected for width in WIDTHS}
