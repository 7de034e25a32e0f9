"""Fault points for the crash tests only (issue 10, item 5: ``tests/faults/test_refresh_crash.py``).

TEST-ONLY. Each is read only when ``PIKSEND_ENABLE_TEST_FAULTS=1`` is set as well, which no
deployment sets; unset, a fault point costs one environment lookup and does nothing.

- ``PIKSEND_TEST_FAULT_AFTER_ROTATION_COMMIT=1``: the token endpoint holds a refresh's
  response for ``HOLD_SECONDS`` after its rotation committed, so a test can ``kill -9`` the
  server between the commit and the response (the lost response every client retries).
"""

from __future__ import annotations

import asyncio
import logging
import os

log = logging.getLogger("piksend.fault_points")

ENABLE = "PIKSEND_ENABLE_TEST_FAULTS"
AFTER_ROTATION_COMMIT = "PIKSEND_TEST_FAULT_AFTER_ROTATION_COMMIT"
HOLD_SECONDS = 300.0


def _on(name: str) -> bool:
    return os.environ.get(ENABLE) == "1" and os.environ.get(name) == "1"


async def after_rotation_commit() -> None:
    """Hold the response of a committed rotation (test-only; see the module docstring)."""
    if _on(AFTER_ROTATION_COMMIT):
        log.warning("test fault point: holding a refresh response after its commit")
        await asyncio.sleep(HOLD_SECONDS)
