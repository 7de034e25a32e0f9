"""'Test your integration': a real authorization request (RFC 6749 §4.1.1) a developer runs
against their own account, with a PKCE pair (RFC 7636 §4.1–§4.2) and a state generated for it
here, and the code exchange (RFC 6749 §4.1.3, RFC 7636 §4.5) at our own token endpoint.

The code verifier stays on the server in a short-lived row found by the digest of the state;
only the S256 challenge and the state travel through the browser. The client secret is not
known to the server: the developer pastes it for the exchange, and it is used for that one
request only, never stored.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.clients.registry import App, get_app
from piksend.errors import ValidationError
from piksend.oauth import redirect_uris, scopes, tokens
from piksend.oauth.errors import OAuthError
from piksend.oauth.token_endpoint import handle_token_request
from piksend.oauth.types import TokenPolicy
from piksend.storage import tables as t
from piksend.storage.oauth import SqlOAuthStore

TEST_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/settings/oauth/test-callback"
PASTED_SECRET = "(the secret you pasted; not stored)"


def callback_uri(public_url: str) -> str:
    return public_url.rstrip("/") + CALLBACK_PATH


@dataclass(frozen=True)
class StartedTest:
    authorize_url: str
    state: str
    code_challenge: str


@dataclass(frozen=True)
class PendingTest:
    client_id: str
    user_id: str
    code_verifier: str
    redirect_uri: str
    scope: tuple[str, ...]
    expires_at: datetime


def _pkce_pair() -> tuple[str, str]:
    # RFC 7636 §4.1: 32 random octets, base64url without padding (43 characters).
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    # RFC 7636 §4.2: S256 challenge = BASE64URL(SHA256(ASCII(verifier))).
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    return verifier, challenge.rstrip("=")


async def start_test(
    session: AsyncSession,
    *,
    owner_id: str,
    client_id: str,
    scope: tuple[str, ...],
    public_url: str,
    now: datetime,
) -> StartedTest:
    app = await get_app(session, owner_id=owner_id, client_id=client_id)
    redirect_uri = callback_uri(public_url)
    if redirect_uris.find_registered(app.redirect_uris, redirect_uri) is None:
        raise ValidationError("Register the test callback on this app first", field="redirect_uri")
    chosen = scopes.canonical(s for s in scope if s in app.scopes)
    if not chosen:
        raise ValidationError("Choose at least one scope to request", field="scopes")
    await session.execute(delete(t.IntegrationTest).where(t.IntegrationTest.expires_at < now))
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(32)
    session.add(
        t.IntegrationTest(
            state_digest=tokens.digest(state),
            client_id=app.client_id,
            user_id=owner_id,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            scope=" ".join(chosen),
            created_at=now,
            expires_at=now + TEST_TTL,
        )
    )
    await session.flush()
    query = urlencode(
        {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(chosen),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return StartedTest(
        authorize_url=f"{public_url.rstrip('/')}/api/oauth/authorize?{query}",
        state=state,
        code_challenge=challenge,
    )


async def find_test(
    session: AsyncSession, *, user_id: str, state: str | None, now: datetime
) -> PendingTest | None:
    """The unexpired test this state belongs to, if it is this user's."""
    if not state or len(state) > 200:
        return None
    row = await session.scalar(
        select(t.IntegrationTest).where(
            t.IntegrationTest.state_digest == tokens.digest(state),
            t.IntegrationTest.user_id == user_id,
            t.IntegrationTest.expires_at > now,
        )
    )
    if row is None:
        return None
    return PendingTest(
        client_id=row.client_id,
        user_id=row.user_id,
        code_verifier=row.code_verifier,
        redirect_uri=row.redirect_uri,
        scope=tuple(row.scope.split()),
        expires_at=row.expires_at,
    )


async def finish_test(session: AsyncSession, *, state: str) -> None:
    await session.execute(
        delete(t.IntegrationTest).where(t.IntegrationTest.state_digest == tokens.digest(state))
    )


async def find_test_app(
    session: AsyncSession, *, user_id: str, state: str | None, now: datetime
) -> tuple[PendingTest, App] | None:
    """The unexpired test this state belongs to with its app, if it is this user's."""
    pending = await find_test(session, user_id=user_id, state=state, now=now)
    if pending is None:
        return None
    return pending, await get_app(session, owner_id=user_id, client_id=pending.client_id)


@dataclass(frozen=True)
class TestExchange:
    """The test's token request as shown (the pasted secret is not echoed) and its answer."""

    test: PendingTest
    app: App
    ok: bool
    status: int
    request: dict[str, str]
    response: dict[str, object]

    @property
    def secret_rejected(self) -> bool:
        """invalid_client: the code was not redeemed, so it is offered again with a new paste."""
        return not self.ok and self.response.get("error") == "invalid_client"


async def exchange_code(
    session: AsyncSession,
    *,
    user_id: str,
    state: str,
    code: str,
    client_secret: str,
    policy: TokenPolicy,
    now: datetime,
) -> TestExchange | None:
    """Redeem the test's code through the real token endpoint path, with the pasted secret;
    None when the test is unknown, finished or expired. A successful exchange ends the test."""
    found = await find_test_app(session, user_id=user_id, state=state, now=now)
    if found is None:
        return None
    pending, app = found
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_uri,
        "client_id": pending.client_id,
        "client_secret": client_secret,
        "code_verifier": pending.code_verifier,
    }
    store = SqlOAuthStore(session)
    body: dict[str, object]
    try:
        response = await handle_token_request(
            {k: v for k, v in params.items() if v},
            None,
            clients=store,
            grants=store,
            policy=policy,
            now=now,
        )
    except OAuthError as exc:
        ok, status, body = False, exc.status, dict(exc.to_dict())
    else:
        ok, status, body = True, 200, response.to_dict()
        await finish_test(session, state=state)
    return TestExchange(
        test=pending,
        app=app,
        ok=ok,
        status=status,
        request={**params, "client_secret": PASTED_SECRET},
        response=body,
    )
