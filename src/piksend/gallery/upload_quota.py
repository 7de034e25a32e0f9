"""A user's upload limits (issue 15, item 1): images and bytes per hour, and a storage quota.

The hour is a sliding one over the user's own ``images`` rows, read in one SELECT inside the
upload's transaction: the rows are already shared by every node. Past the hourly limits the
upload is 429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) until the oldest upload of
the hour is an hour old; past the storage quota it is 409 ``quota_exceeded``, since no wait
makes room — only deleting images does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.errors import DomainError, TooManyRequests
from piksend.storage.tables import gallery as g

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class UploadQuota:
    per_hour: int
    bytes_per_hour: int
    storage_bytes: int


class UploadRateError(TooManyRequests):
    """429; web/errors.py sends ``headers`` with it."""

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description, field="file")
        self.headers = {"retry-after": str(retry_after)}


class StorageQuotaError(DomainError):
    status = 409
    code = "quota_exceeded"


def _utc(moment: datetime | str) -> datetime:
    """An aggregate's value: SQLite's MIN() comes back as text, without the column's type."""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def check_upload_quota(
    session: AsyncSession, *, owner_id: str, size: int, quota: UploadQuota, now: datetime
) -> None:
    """Raise the error to answer when an upload of ``size`` bytes passes one of the limits."""
    recent = g.Image.created_at > now - HOUR
    count, recent_bytes, stored, oldest = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((recent, 1), else_=0)), 0),
                func.coalesce(func.sum(case((recent, g.Image.size_bytes), else_=0)), 0),
                func.coalesce(func.sum(g.Image.size_bytes), 0),
                func.min(case((recent, g.Image.created_at), else_=None)),
            ).where(g.Image.owner_id == owner_id)
        )
    ).one()
    if stored + size > quota.storage_bytes:
        raise StorageQuotaError(
            f"This upload would pass your storage quota of {quota.storage_bytes} bytes; "
            "delete images to make room",
            field="file",
        )
    if count + 1 > quota.per_hour or recent_bytes + size > quota.bytes_per_hour:
        wait = HOUR if oldest is None else _utc(oldest) + HOUR - now
        seconds = max(1, math.ceil(wait.total_seconds()))
        raise UploadRateError(
            f"Too many uploads in the last hour (at most {quota.per_hour} images and "
            f"{quota.bytes_per_hour} bytes); retry after {seconds} seconds",
            retry_after=seconds,
        )
