"""One line per HTTP request, written without the logging machinery on the request path.

uvicorn's access log goes through ``logging`` (a LogRecord, filters, a formatter, a locked
write and a flush per request): ~60 µs of a ~150 µs hot request (bench/RESULTS.md, session 4).
Here a request appends one preformatted line to a deque; a thread writes what has gathered
and flushes at most every ``interval`` seconds, and at close. Lines keep uvicorn's format under
piksend's access formatter, and never carry a query string (a code, a state or a misplaced
secret may travel there); the path is percent-quoted as uvicorn does, so a path cannot
forge a line of its own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import TextIO
from urllib.parse import quote

from starlette.types import Scope


class AccessLog:
    def __init__(self, stream: TextIO, *, interval: float = 0.2) -> None:
        self.stream = stream
        self.interval = interval
        self._lines: deque[str] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._second = -1
        self._stamp = ""
        self._writer = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._writer.start()

    def request(self, scope: Scope, status: int) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
            self._second = second
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        path = quote(scope.get("root_path", "") + scope["path"])
        self._lines.append(
            f"{self._stamp},{int(now * 1000) % 1000:03d} INFO access: "
            f'{peer} - "{scope["method"]} {path} HTTP/{scope.get("http_version", "1.1")}" '
            f"{status}\n"
        )
        if not self._wake.is_set():
            self._wake.set()

    def _drain(self) -> None:
        lines = self._lines
        batch = [lines.popleft() for _ in range(len(lines))]
        if batch:
            self.stream.write("".join(batch))
            self.stream.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._stop.wait(self.interval)
            self._wake.clear()
            try:
                self._drain()
            except (OSError, ValueError):  # the stream is gone (closed, or a full disk)
                self._lines.clear()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._writer.join(timeout=5)
        with contextlib.suppress(OSError, ValueError):  # the stream is gone
            self._drain()
