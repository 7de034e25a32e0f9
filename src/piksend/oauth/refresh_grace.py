"""A retried refresh is not an attack: RFC 9700 §4.14.2 (refresh token rotation and reuse
detection), RFC 6749 §5.1 (the successor response), RFC 6749 §10.4 (a refresh token is bound
to its client).

RFC 9700 §4.14.2 revokes the whole grant when a rotated refresh token comes back, since it
cannot tell the legitimate client from an attacker. But every client library retries a request
whose response was lost (a mobile network, a crash after the commit), and such a retry carries
the token that was just rotated. So, while the *successor* it was rotated into has never been
used, a presentation of the old token by the same client less than ``window`` seconds after
its rotation is a *grace retry*: it gets back the very successor response the rotation gave
(single-successor semantics: every retry inside the window sees the same tokens, and no second
pair is ever minted). Outside the window, or once the successor was used (rotated, revoked),
it is reuse, and the grant is revoked as RFC 9700 §4.14.2 says.

The store keeps the successor response only where the holder of the old token can read it
(sealed under a key derived from that token; ``GrantStore.find_retry``), drops it at the
successor's first use and when the window ends. This module holds the rule; the store does
the keeping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from piksend.oauth.types import Client, TokenRecord, TokenResponse

DEFAULT_WINDOW = 60  # seconds (PIKSEND_REFRESH_GRACE_SECONDS; 0 turns grace retries off)


@dataclass(frozen=True)
class RetryCopy:
    """The successor response of one rotation, for the retries of the token it rotated.

    ``presented`` is the rotated token in clear: the store derives the key it seals
    ``response`` under from it and never stores it. ``successor`` is the new refresh token's
    digest: its first use ends the copy."""

    digest: str
    presented: str
    successor: str
    consent_id: str
    client_id: str
    response: str
    expires_at: datetime


@dataclass(frozen=True)
class ReplayedResponse(TokenResponse):
    """A successor response given again to a grace retry (counted apart from rotations)."""


def keep_for_retries(
    *,
    presented: str,
    digest: str,
    record: TokenRecord,
    response: TokenResponse,
    successor: TokenRecord,
    window: int,
    now: datetime,
) -> RetryCopy | None:
    """What a rotation keeps for its retries; None when grace retries are off (``window`` 0)."""
    if window <= 0:
        return None
    return RetryCopy(
        digest=digest,
        presented=presented,
        successor=successor.digest,
        consent_id=record.consent_id,
        client_id=record.client_id,
        response=json.dumps(response.to_dict(), separators=(",", ":")),
        expires_at=now + timedelta(seconds=window),
    )


def may_be_retry(record: TokenRecord, client: Client, *, window: int, now: datetime) -> bool:
    """Whether a presentation of a rotated (or, in a lost race, just-rotated) token may be a
    grace retry: grace is on, the same client, not revoked, rotated less than ``window``
    seconds ago. That the successor was never used is the store's check (``find_retry``)."""
    if window <= 0 or record.client_id != client.client_id or record.revoked_at is not None:
        return False
    rotated = record.rotated_at if record.rotated_at is not None else now
    return now < rotated + timedelta(seconds=window)


def replayed(kept: str) -> ReplayedResponse:
    """The kept successor response, as it was given (byte-identical on the wire)."""
    body = json.loads(kept)
    return ReplayedResponse(
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        expires_in=body["expires_in"],
        scope=tuple(body["scope"].split()),
        token_type=body["token_type"],
    )
