"""Keyset (cursor) pagination over ``(created_at, id)``, newest first.

The cursor is opaque to clients: base64url of the last row's creation time and id. Keyset
pagination stays correct when rows are inserted or deleted between pages.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_

from piksend.errors import DomainError

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(DomainError):
    status = 400
    code = "invalid_request"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps({"t": created_at.isoformat(), "i": row_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        created_at = datetime.fromisoformat(data["t"])
        row_id = data["i"]
        if created_at.tzinfo is None or not isinstance(row_id, str):
            raise ValueError("bad cursor")
        # In UTC, as the columns store it; a time at the edge of the calendar cannot be.
        created_at = created_at.astimezone(UTC)
    except (ValueError, KeyError, TypeError, UnicodeError, OverflowError):
        raise InvalidCursor("The cursor is not valid", field="cursor") from None
    return created_at, row_id


def apply_cursor(query: Select, model: Any, cursor: str | None, limit: int) -> Select:
    """Order newest first and start after ``cursor``; fetch one extra row to see if more exist."""
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(
            or_(
                model.created_at < created_at,
                and_(model.created_at == created_at, model.id < row_id),
            )
        )
    return query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)


def page_of(rows: list, limit: int) -> tuple[list, str | None]:
    """Cut the extra row off and make the cursor for the next page, if there is one."""
    if len(rows) <= limit:
        return rows, None
    kept = rows[:limit]
    last = kept[-1]
    return kept, encode_cursor(last.created_at, last.id)
