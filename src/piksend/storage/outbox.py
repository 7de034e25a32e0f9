"""The outbox pattern shared by the mail and webhook workers.

A domain writes a row beside its own change (a message to send, a delivery to make); a worker
polls for rows that are due, claims each with one conditional UPDATE (a lease: of several
processes or nodes polling one database exactly one wins the row) and sends it. This module holds
what the two workers share: the claimable condition, the polling loop and the backoff rule. What
differs — how a row is claimed, sent and finished — stays with each worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

PENDING = "pending"


def claimable(row: Any, now: datetime) -> ColumnElement[bool]:
    """Rows due now whose lease, if any, has run out; ``row`` is a mapped outbox class with
    ``status``, ``next_attempt_at`` and ``lease_expires_at``."""
    return and_(
        row.status == PENDING,
        row.next_attempt_at <= now,
        or_(row.lease_expires_at.is_(None), row.lease_expires_at < now),
    )


def backoff(attempts: int, *, base: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base·2^(n-1), capped."""
    return min(cap, base * 2 ** max(attempts - 1, 0))


class PollingWorker(ABC):
    """A background task calling :meth:`run_once` until stopped: again at once after a pass that
    sent something (more may be due), else after ``poll_interval`` seconds. A failing pass is
    logged and the loop goes on; stopping cancels the pass in flight (a claimed row's lease runs
    out and another pass sends it)."""

    task_name = "piksend-outbox-worker"
    what = "outbox worker"  # for the log line of a failed pass

    def __init__(self, *, poll_interval: float, log: logging.Logger) -> None:
        self.poll_interval = poll_interval
        self._log = log
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    @abstractmethod
    async def run_once(self) -> int:
        """Claim and attempt what is due now; returns how many were attempted."""

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run_forever(), name=self.task_name)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("%s pass failed", self.what)
                sent = 0
            if sent:
                continue  # there may be more due right away
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll_interval)
