"""piksend.logs.lean_records: serving processes skip the record fields no format prints."""

from __future__ import annotations

import logging


def test_serving_processes_skip_the_record_fields_no_format_prints(monkeypatch):
    from piksend.logs import lean_records

    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))
    lean_records()
    record = logging.getLogger("piksend.test").makeRecord(
        "piksend.test", logging.INFO, "(unknown file)", 0, "x", (), None
    )
    assert logging._srcfile is None
    assert record.thread is None and record.process is None
