"""Helpers for the account tests: forms posted with their CSRF token, and the outbox sent."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select

from piksend.storage import tables as t
from tests.support.driver import csrf_of


async def post_form(http: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    """POST ``data`` to ``path`` with the CSRF token of this browser (read from a form page)."""
    page = await http.get("/password/forgot")
    return await http.post(path, data={"csrf_token": csrf_of(page.text), **data})


async def deliver(app) -> int:
    """One pass of the mail worker, as its loop would run it; returns how many it attempted."""
    return await app.state.mail_worker.run_once()


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def path_of(link: str) -> str:
    return urlsplit(link).path


async def count(app, table) -> int:
    async with app.state.ctx.db.reader() as s:
        return await s.scalar(select(func.count()).select_from(table)) or 0


async def signed_in(http: httpx.AsyncClient) -> bool:
    """Whether this browser's session still works (a signed-out one is sent to sign in)."""
    return (await http.get("/settings/password")).status_code == 200


USERS = t.User
