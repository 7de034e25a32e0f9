"""Upload memory (issue 15, item 2): a real ``piksend serve``'s peak RSS while it takes the
issue's 6,324 x 6,324 PNG, a 50 MP JPEG, and four of those PNGs at once.

    PYTHONPATH=src .venv/bin/python bench/upload_memory.py                 # this tree's code
    PYTHONPATH=src .venv/bin/python bench/upload_memory.py --src OLD/src   # another tree's

Each scenario gets a fresh server (SQLite, a temporary data directory, loopback only); its peak
(``VmHWM`` in /proc/<pid>/status) is reset just before the uploads (sign-in's argon2id would
otherwise set it), so the peak printed is the uploads' own, beside the RSS they started from. The images are made with Pillow (tests/support/big_images.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import live  # noqa: E402
from tests.support.big_images import (  # noqa: E402
    jpeg_50mp,
    peak_rss_mib,
    png_6324,
    reset_peak_rss,
)
from tests.support.live_api import live_token  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(pid)


async def scenario(work: Path, src: str | None, uploads: list[tuple[str, bytes]]) -> dict:
    data = Path(tempfile.mkdtemp(dir=work))
    if src is not None:  # the server (and its CLI) run the other tree's code: first on the path
        os.environ["PYTHONPATH"] = os.pathsep.join((src, os.environ.get("PYTHONPATH", "")))
    with live.live_server(data, f"sqlite:///{data / 'bench.db'}") as server:
        token = await live_token(server, "galleries:write images:write")
        auth = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=300) as api:
            gallery = (await api.post("/api/v1/galleries", json={"title": "Bench"})).json()
            pid = server.process.pid
            reset_peak_rss(pid)
            before = rss_mib(pid)
            started = time.monotonic()
            answers = await asyncio.gather(
                *(
                    api.post(
                        f"/api/v1/galleries/{gallery['id']}/images",
                        files={"file": (name, body, "application/octet-stream")},
                    )
                    for name, body in uploads
                )
            )
            seconds = time.monotonic() - started
            peak = peak_rss_mib(pid)
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            path = next(v for v in environ if v.startswith(b"PYTHONPATH=")).decode()
    return {
        "code": path.removeprefix("PYTHONPATH=").split(os.pathsep)[0],
        "statuses": [a.status_code for a in answers],
        "errors": [a.json().get("error_description") for a in answers if a.status_code != 201],
        "rss_before_mib": round(before),
        "peak_rss_mib": round(peak),
        "seconds": round(seconds, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", help="the src/ directory of the code to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="piksend-upload-memory-") as tmp:
        work = Path(tmp)
        png, jpeg = png_6324(work), jpeg_50mp(work)
        results = {
            "png_6324_kib": round(len(png) / 1024),
            "jpeg_50mp_kib": round(len(jpeg) / 1024),
            "one 6,324² PNG": await scenario(work, args.src, [("big.png", png)]),
            "one 50 MP JPEG": await scenario(work, args.src, [("big.jpg", jpeg)]),
            "four 6,324² PNGs at once": await scenario(
                work, args.src, [(f"big{i}.png", png) for i in range(4)]
            ),
        }
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
