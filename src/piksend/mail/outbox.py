"""Writing the outbox: a message joins the caller's unit of work, so it is sent if and only if
the change that caused it commits (no message for a rolled-back sign-up, none lost after one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from piksend.mail.messages import Message
from piksend.storage import tables as t

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


async def enqueue(session: AsyncSession, message: Message, *, now: datetime) -> str:
    """Queue ``message`` in the caller's transaction; returns the outbox id."""
    row = t.MailMessage(
        id=t.new_id("msg"),
        to_address=message.to,
        subject=message.subject,
        body=message.body,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id
