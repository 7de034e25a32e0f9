"""Logging for ``piksend serve``: access logs without query strings (a code, a state or a
misplaced secret may travel there), so no token, code or secret is ever written to a log."""

from __future__ import annotations

import logging


class DropQueryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            record.args = (*args[:2], path, *args[3:])
        return True


def lean_records() -> None:
    """Skip what no piksend log format prints: the caller's file and line (a stack walk per
    record), the thread, process and multiprocessing names — the optimisation the logging
    HOWTO describes ("Optimization"). Called in every serving process."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def logging_config(level: str = "INFO") -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"drop_query": {"()": "piksend.logs.DropQueryFilter"}},
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "access": {"format": "%(asctime)s %(levelname)s access: %(message)s"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["drop_query"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "piksend": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
