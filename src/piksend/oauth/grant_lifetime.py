"""How long a grant lasts: RFC 9700 §4.14.2 (bound the lifetime of refresh tokens), RFC 6749 §6.

A grant (a consent and the refresh tokens born from it) ends by itself in two ways:

- *idle*: each refresh token lasts ``TokenPolicy.refresh_token_ttl`` (the idle timeout) from
  its issue, so a grant no one refreshes for that long ends;
- *absolute*: no refresh token outlives ``TokenPolicy.grant_max_age`` from the consent's
  creation, however often it is rotated, so a grant ends even when it is used every day.

Rotation therefore no longer slides a grant forever: the successor's expiry is the earlier of
the two ends, and a refresh presented after the absolute end is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from piksend.oauth.errors import InvalidGrantError
from piksend.oauth.types import TokenPolicy

GRANT_ENDED = "This authorization has reached its maximum lifetime; ask the user to sign in again"


def absolute_end(policy: TokenPolicy, *, granted_at: datetime) -> datetime:
    """When a grant made at ``granted_at`` ends, however it is used."""
    return granted_at + timedelta(seconds=policy.grant_max_age)


def refresh_expiry(policy: TokenPolicy, *, now: datetime, granted_at: datetime | None) -> datetime:
    """The expiry of a refresh token issued ``now`` for a grant made at ``granted_at``:
    the idle timeout from now, never past the grant's absolute end (RFC 9700 §4.14.2)."""
    idle = now + timedelta(seconds=policy.refresh_token_ttl)
    if granted_at is None:
        return idle
    return min(idle, absolute_end(policy, granted_at=granted_at))


def check_not_ended(policy: TokenPolicy, *, now: datetime, granted_at: datetime | None) -> None:
    """``invalid_grant`` (RFC 6749 §5.2) once the grant's absolute lifetime is over."""
    if granted_at is not None and now >= absolute_end(policy, granted_at=granted_at):
        raise InvalidGrantError(GRANT_ENDED)


def access_ends(
    policy: TokenPolicy, *, granted_at: datetime, last_used_at: datetime | None
) -> datetime:
    """When an app's access through a grant ends if it is not used again: its newest refresh
    token was issued at the grant's last use (or creation) and bounded as above."""
    return refresh_expiry(policy, now=last_used_at or granted_at, granted_at=granted_at)
