"""Sign-in throttling that protects the owner (NIST SP 800-63B §5.2.2, OWASP "device cookies").

Every sign-in attempt is counted, atomically, *before* its password is checked: one shared
counter hit returns the attempt's number, and an attempt over a limit is refused without
running argon2, so N parallel attempts check at most the limit. The counters are

- per client address: password spraying (many accounts from one address);
- per (account, client address): guessing one account's password from one address; an
  attacker elsewhere never reaches the owner's own count;
- per account, from browsers that never signed in to it: a slow-down of guessing spread over
  many addresses. A browser holding the account's device cookie (signed by the server's
  key, given at each successful sign-in) is exempt, so no one can lock the owner out of the
  browsers they already use.

A correct password takes back only the hits of its own attempt: it resets nothing that
protects others. Sign-up and reset requests are limited per client address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from piksend.errors import TooManyRequests
from piksend.storage.counters import Counters


@dataclass(frozen=True)
class ThrottlePolicy:
    window: int = 15 * 60  # seconds of one sign-in counting window
    per_address: int = 100  # attempts from one address, over all accounts
    per_account_and_address: int = 10
    per_account: int = 50  # attempts at one account from browsers it does not know
    signups_per_address: int = 10  # per `request_window`
    resets_per_address: int = 5  # password-reset requests, per `request_window`
    request_window: int = 3600
    device_ttl: int = 365 * 24 * 3600  # seconds a device cookie is honoured


@dataclass(frozen=True)
class Admission:
    """An attempt let through to the password check, and the counter hits it made."""

    keys: tuple[str, ...]
    at: datetime


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class SignInThrottle:
    def __init__(self, counters: Counters, policy: ThrottlePolicy, *, secret_key: str) -> None:
        self.counters = counters
        self.policy = policy
        # A key of its own, derived from the server's secret: a device cookie can never be
        # replayed as a CSRF token or anything else the secret signs.
        self._device_key = hashlib.sha256(b"piksend device cookie\0" + secret_key.encode()).digest()

    async def admit(
        self, *, email: str, address: str, known_device: bool, now: datetime
    ) -> Admission:
        """Count this attempt; TooManyRequests when one of its counts passes its limit.

        ``email`` is the normalised address typed, whether or not an account has it, so
        the answers never tell which addresses have accounts."""
        p = self.policy
        wait = _minutes(p.window)
        steps = [
            (
                f"signin:address:{address}",
                p.per_address,
                f"Too many failed sign-in attempts from your network. Try again in {wait}.",
            ),
            (
                f"signin:account-address:{email}\n{address}",
                p.per_account_and_address,
                f"Too many failed sign-in attempts. Try again in {wait}.",
            ),
        ]
        if not known_device:
            steps.append(
                (
                    f"signin:account:{email}",
                    p.per_account,
                    "Too many failed sign-in attempts for this account. Try again in "
                    f"{wait}, or sign in from a browser you have used with this account before.",
                )
            )
        keys: list[str] = []
        for key, limit, message in steps:
            keys.append(key)
            if await self.counters.hit(key, window=p.window, now=now) > limit:
                # Later counters are not hit: one address can add at most its own limit to
                # the account's count, however long it keeps trying.
                raise TooManyRequests(message)
        return Admission(keys=tuple(keys), at=now)

    async def forgive(self, admission: Admission) -> None:
        """A correct password: take back this attempt's own hits, and nothing more."""
        for key in admission.keys:
            await self.counters.take_back(key, at=admission.at)

    async def limit_signup(self, *, address: str, now: datetime) -> None:
        await self._limit_request("signup", self.policy.signups_per_address, address, now)

    async def limit_reset_request(self, *, address: str, now: datetime) -> None:
        await self._limit_request("reset", self.policy.resets_per_address, address, now)

    async def _limit_request(self, kind: str, limit: int, address: str, now: datetime) -> None:
        window = self.policy.request_window
        if await self.counters.hit(f"{kind}:address:{address}", window=window, now=now) > limit:
            raise TooManyRequests(
                f"Too many requests from your network. Try again in {_minutes(window)}."
            )

    # The device cookie: "v1.<account id>.<issued at, unix seconds>.<HMAC-SHA256>".

    def _mac(self, message: str) -> str:
        digest = hmac.new(self._device_key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def device_cookie(self, *, account_id: str, now: datetime) -> str:
        message = f"v1.{account_id}.{int(now.timestamp())}"
        return f"{message}.{self._mac(message)}"

    def device_account(self, value: str | None, *, now: datetime) -> str | None:
        """The account a valid, unexpired device cookie names, else None."""
        if not value or len(value) > 200:
            return None
        parts = value.split(".")
        if len(parts) != 4 or parts[0] != "v1" or not parts[2].isdigit():
            return None
        message = ".".join(parts[:3])
        if not hmac.compare_digest(self._mac(message), parts[3]):
            return None
        issued = int(parts[2])
        if now.timestamp() >= issued + self.policy.device_ttl:
            return None
        return parts[1]
