"""The ceiling: a bare Starlette JSON endpoint on exactly the server stack ``piksend serve`` uses.

python bench/ceiling.py PORT [--workers N]
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from piksend.cli import SERVER_OPTIONS


async def hello(_request):
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/", hello)])

if __name__ == "__main__":
    port = int(sys.argv[1])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--workers" else 1
    uvicorn.run(
        "ceiling:app" if workers > 1 else app,
        host="127.0.0.1",
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        **SERVER_OPTIONS,
    )
