"""The mail worker: sends the outbox written by :mod:`piksend.mail.outbox`.

Each message is claimed with one conditional UPDATE (a lease): of several processes or nodes
polling one database, exactly one wins the row. A sender that dies mid-way leaves a lease that
expires, and the message is sent again later under the same ``Message-ID`` (RFC 5322 §3.6.4),
which lets mail clients drop the duplicate. Failures are retried with exponential backoff up to
a cap and a maximum number of attempts; a permanent refusal (RFC 5321 §4.2.1, 5yz) ends at once.
Once a message is sent or given up on its body is emptied: a link it carried stays in the
database only while it waits. The log names message ids, never addresses or links.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from piksend.mail.outbox import FAILED, SENT
from piksend.mail.transports import MailTransport, SendError
from piksend.storage import outbox
from piksend.storage.engine import Database
from piksend.storage.outbox import PollingWorker
from piksend.storage.tables import mail as m

log = logging.getLogger("piksend.mail")

BATCH = 20
LEASE_MARGIN = 60.0


@dataclass(frozen=True)
class MailPolicy:
    sender: str
    max_attempts: int = 8
    backoff_base: float = 30.0
    backoff_cap: float = 6 * 3600.0
    timeout: float = 20.0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: base·2^(n-1), capped."""
        return outbox.backoff(attempts, base=self.backoff_base, cap=self.backoff_cap)


def build_email(row: m.MailMessage, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    domain = sender.rsplit("@", 1)[-1].rstrip(">") or "localhost"
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = f"<{row.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5
    message.set_content(row.body)
    return message


class MailWorker(PollingWorker):
    task_name = "piksend-mail-worker"
    what = "mail worker"

    def __init__(
        self,
        db: Database,
        *,
        transport: MailTransport,
        policy: MailPolicy,
        clock: Callable[[], datetime],
        poll_interval: float = 2.0,
    ) -> None:
        super().__init__(poll_interval=poll_interval, log=log)
        self.db = db
        self.transport = transport
        self.policy = policy
        self.clock = clock

    async def run_once(self) -> int:
        """Claim and attempt every message due now (up to a batch), one after another."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            due = (
                await session.scalars(
                    select(m.MailMessage.id)
                    .where(_claimable(now))
                    .order_by(m.MailMessage.next_attempt_at, m.MailMessage.id)
                    .limit(BATCH)
                )
            ).all()
        attempted = 0
        for message_id in due:
            attempted += await self._attempt(message_id)
        return attempted

    async def _claim(self, message_id: str, now: datetime) -> tuple[str, EmailMessage] | None:
        """The lease: one conditional UPDATE whose row count says whether this worker won."""
        token = secrets.token_hex(16)
        lease_until = now + timedelta(seconds=self.policy.timeout + LEASE_MARGIN)
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(m.MailMessage)
                .where(m.MailMessage.id == message_id, _claimable(now))
                .values(
                    lease_token=token,
                    lease_expires_at=lease_until,
                    attempts=m.MailMessage.attempts + 1,
                    last_attempt_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], result).rowcount != 1:
                return None
            row = await session.get_one(m.MailMessage, message_id)
            return token, build_email(row, sender=self.policy.sender)

    async def _attempt(self, message_id: str) -> int:
        claimed = await self._claim(message_id, self.clock())
        if claimed is None:
            return 0
        token, email = claimed
        error: SendError | None = None
        try:
            await self.transport.send(email, message_id=message_id)
        except SendError as exc:
            error = exc
        await self._finish(message_id, token, error)
        return 1

    async def _finish(self, message_id: str, token: str, error: SendError | None) -> None:
        now = self.clock()
        values: dict[str, Any] = {"lease_token": None, "lease_expires_at": None}
        async with self.db.unit_of_work() as session:
            row = await session.get_one(m.MailMessage, message_id)
            if error is None:
                values.update(status=SENT, sent_at=now, last_error=None, body="")
            elif error.permanent or row.attempts >= self.policy.max_attempts:
                values.update(status=FAILED, last_error=error.description, body="")
            else:
                delay = self.policy.backoff(row.attempts)
                values.update(next_attempt_at=now + timedelta(seconds=delay))
                values["last_error"] = error.description
            # Only the lease holder records the outcome: a takeover's result is not overwritten.
            await session.execute(
                update(m.MailMessage)
                .where(m.MailMessage.id == message_id, m.MailMessage.lease_token == token)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if error is not None:
            log.warning("mail %s attempt failed: %s", message_id, error.description)


def _claimable(now: datetime):
    return outbox.claimable(m.MailMessage, now)
