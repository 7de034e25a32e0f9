"""The app's access log (web/access_log.py): uvicorn's line format, no query string, quoted
paths, and every line written by close."""

from __future__ import annotations

import io
import re

from piksend.web.access_log import AccessLog

LINE = re.compile(
    r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO access: 127\.0\.0\.1:5000 - "GET (\S+) HTTP/1\.1" (\d+)'
)


def _scope(path: str, query: bytes = b"") -> dict:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "client": ("127.0.0.1", 5000),
        "http_version": "1.1",
    }


def test_lines_have_uvicorns_format_without_the_query_string():
    stream = io.StringIO()
    log = AccessLog(stream, interval=30)
    log.request(_scope("/cb", b"code=pks_ac_secret&state=x"), 302)
    log.request(_scope("/api/v1/me"), 200)
    log.close()
    lines = stream.getvalue().splitlines()
    assert [LINE.fullmatch(line).groups() for line in lines] == [
        ("/cb", "302"),
        ("/api/v1/me", "200"),
    ]
    assert "pks_ac_" not in stream.getvalue()


def test_a_path_cannot_write_a_line_of_its_own():
    stream = io.StringIO()
    log = AccessLog(stream, interval=30)
    log.request(_scope('/x\n2026-01-01 00:00:00,000 INFO access: forged "GET / HTTP/1.1" 200'), 404)
    log.close()
    assert len(stream.getvalue().splitlines()) == 1
    assert LINE.fullmatch(stream.getvalue().strip()).group(2) == "404"


def test_lines_are_written_without_a_close_too():
    class Flushed(io.StringIO):
        def __init__(self):
            super().__init__()
            import threading

            self.event = threading.Event()

        def flush(self):
            self.event.set()

    stream = Flushed()
    log = AccessLog(stream, interval=0.01)
    try:
        log.request(_scope("/healthz"), 200)
        assert stream.event.wait(10)
        assert "/healthz" in stream.getvalue()
    finally:
        log.close()
