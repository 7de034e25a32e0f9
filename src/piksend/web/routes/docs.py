"""The developer guide at /docs/oauth, with this server's base URL filled in, and its examples."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from piksend.errors import NotFound
from piksend.oauth.scopes import SCOPES
from piksend.web.api_reference import api_reference
from piksend.web.auth import load_user
from piksend.web.context import ctx
from piksend.web.render import page

router = APIRouter()

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The single-page example is served as text: it is meant to run from your own origin, and a
# page on PikSend's origin would neither show cross-origin use nor pass PikSend's CSP.
EXAMPLE_FILES = {
    "piksend_example.py": "text/x-python",
    "piksend_example.js": "text/javascript",
    "spa.html": "text/plain",
    "piksend_cli_example.py": "text/x-python",
}
PLACEHOLDER = "__PIKSEND_BASE_URL__"


@cache
def _source(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def example(name: str, base_url: str) -> str:
    """An example client, ready to run unchanged against the server at ``base_url``."""
    return _source(name).replace(PLACEHOLDER, base_url)


def duration(seconds: int) -> str:
    """Seconds in words, the way the guide states lifetimes ("1 hour", "2 minutes")."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


@router.get("/docs/oauth")
async def oauth_guide(request: Request):
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        await load_user(request, s)
    base = c.settings.public_url
    return page(
        request,
        "docs/oauth.html",
        base_url=base,
        scopes=SCOPES,
        # Read from the app's own OpenAPI document at each render: the reference cannot drift.
        api=api_reference(request.app.openapi(), base),
        access_ttl=duration(c.settings.access_token_ttl),
        code_ttl=duration(c.settings.code_ttl),
        refresh_grace=duration(c.settings.refresh_grace_seconds),
        python_example=example("piksend_example.py", base),
        node_example=example("piksend_example.js", base),
        spa_example=example("spa.html", base),
        cli_example=example("piksend_cli_example.py", base),
    )


@router.get("/docs/oauth/examples/{name}")
async def example_file(request: Request, name: str):
    if name not in EXAMPLE_FILES:
        raise NotFound("No such example")
    return PlainTextResponse(
        example(name, ctx(request).settings.public_url),
        media_type=EXAMPLE_FILES[name],
        headers={"content-disposition": f'inline; filename="{name}"'},
    )
