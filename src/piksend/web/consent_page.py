"""The consent page's view and its "Not you?" path (issue 17): what the page shows, the boxes as
the user left them, and signing out back to the same authorization request for another account.

Signing out from the menu on the consent page takes the same path (the page replaces the menu's
form), so the request is never dropped silently: the next account to sign in is asked about it,
and Cancel on the consent page answers the app ``access_denied`` (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from piksend.accounts import service as accounts
from piksend.clients.identity import AppIdentity
from piksend.oauth import authorization, resources, scopes
from piksend.oauth.errors import UnsafeAuthorizationRequestError
from piksend.oauth.types import Client, PendingAuthorization
from piksend.storage.oauth import SqlOAuthStore
from piksend.web.auth import clear_session_cookie, safe_next, session_cookie_name
from piksend.web.context import ctx
from piksend.web.render import error_page, see_other
from piksend.web.views import https_or_none, redirect_destination, where_it_runs

AUTHORIZE_PATH = "/api/oauth/authorize"
SWITCH_ACCOUNT = "switch_account"  # the "Not you?" button's decision value


def consent_view(
    client: Client,
    pending: PendingAuthorization,
    issuer: str,
    identity: AppIdentity,
    *,
    ticked: Collection[str] | None = None,
) -> dict:
    """The consent template's values. ``ticked`` is what the user left ticked on a form shown
    again (an approval with nothing ticked): the boxes stay as they were, so pressing Approve
    again cannot grant what the user unticked. None on the first showing: all are ticked."""
    return {
        "resource_name": resources.name_of(pending.resource, issuer),
        "client": client,
        "identity": identity,  # the owner's name, the operator's badge, the logo piksend serves
        "website_url": https_or_none(client.website_url),
        "redirect_host": redirect_destination(pending.redirect_uri),
        "runs_in": where_it_runs(client, pending.redirect_uri),
        "pending": pending,
        "requested": [
            (name, scopes.SCOPES[name], ticked is None or name in ticked) for name in pending.scope
        ],
    }


def authorize_url_of(pending: PendingAuthorization, issuer: str) -> str:
    """The authorization request a pending one was made from (RFC 6749 §4.1.1, RFC 7636 §4.3,
    RFC 8707 §2.1), as a local path: asked again, it is validated again from scratch."""
    query = {
        "response_type": "code",
        "client_id": pending.client_id,
        "redirect_uri": pending.redirect_uri,
        "scope": " ".join(pending.scope),  # RFC 6749 §3.3: space-delimited
        "state": pending.state,
        "code_challenge": pending.code_challenge,
        "code_challenge_method": pending.code_challenge_method,
        "resource": resources.absolute(pending.resource, issuer),
    }
    return AUTHORIZE_PATH + "?" + urlencode({k: v for k, v in query.items() if v is not None})


async def switch_account(
    request: Request, s: AsyncSession, pending: PendingAuthorization | None
) -> Response:
    """ "Not you?": end this browser's session and send it to sign in, then back to the same
    authorization request (a local path, checked like every post-login target). The pending
    request, which belongs to the account signing out, is ended: the next account gets its own."""
    c = ctx(request)
    await accounts.end_session(
        s, request.cookies.get(session_cookie_name(c.settings.secure_cookies))
    )
    target = "/"
    if pending is not None and pending.expires_at > c.now():
        await SqlOAuthStore(s).take_pending(pending.id, pending.user_id, c.now())
        target = safe_next(authorize_url_of(pending, c.policy.issuer))
    response = see_other("/login?" + urlencode({"next": target}))
    clear_session_cookie(request, response)
    return response


BACK_TO_THE_APP = (
    "Go back to the app and start again. Nothing was shared with it; if this happens again, "
    "tell the app's developer."
)
EXPIRED = "This authorization request has expired or was already answered."
DEVELOPER_STEPS = {
    "Unknown client_id": "Check the client_id against the one on the app's page under OAuth apps.",
    authorization.REDIRECT_URI_MISMATCH: (
        "Register this exact redirect URI on the app's page under OAuth apps, or send one that "
        "is registered: PikSend compares them character for character (RFC 9700 §4.1.3)."
    ),
}


def _first(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[0][:200]


async def unsafe_request_page(
    request: Request,
    store: SqlOAuthStore,
    params: Mapping[str, Sequence[str]],
    error: UnsafeAuthorizationRequestError,
) -> Response:
    """RFC 6749 §4.1.2.1: an unknown client or unregistered redirect URI is shown, never
    redirected; the page names the app when the client_id is one, and what was sent."""
    client_id, redirect_uri = _first(params, "client_id"), _first(params, "redirect_uri")
    client = await store.get_client(client_id) if client_id else None
    return error_page(
        request,
        error.description,
        status=400,
        title="Invalid authorization request",
        tried=f"client_id={client_id or '(none)'} redirect_uri={redirect_uri or '(none)'}",
        app_name=client.name if client else None,
        user_step=BACK_TO_THE_APP,
        developer_step=DEVELOPER_STEPS.get(
            error.description, "Fix the authorization request: the docs list its parameters."
        ),
    )


async def expired_page(
    request: Request, store: SqlOAuthStore, asked: PendingAuthorization | None
) -> Response:
    client = await store.get_client(asked.client_id) if asked else None
    return error_page(
        request,
        EXPIRED,
        status=400,
        title="Request expired",
        tried="answering an authorization request",
        app_name=client.name if client else None,
        user_step="Go back to the app and start again.",
        developer_step=(
            "A request lasts a few minutes and is answered once; start a new one for each "
            "attempt, and do not replay the consent form."
        ),
    )
