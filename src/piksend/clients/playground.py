"""'Test your integration': a real authorization request a developer runs against their own
account, with a PKCE pair (RFC 7636 §4.1–§4.2) and a state generated for it here.

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

from piksend.clients.service import get_app
from piksend.errors import ValidationError
from piksend.oauth import redirect_uris, scopes, tokens
from piksend.storage import tables as t

TEST_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/settings/oauth/test-callback"


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
