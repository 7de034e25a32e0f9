"""FastJSONResponse writes the bytes Starlette's JSONResponse would (web/json_response.py)."""

from __future__ import annotations

import pytest
from starlette.responses import JSONResponse

from piksend.web.json_response import FastJSONResponse

BODIES = [
    {},
    {"active": False},
    {
        "active": True,
        "scope": "profile:read galleries:read",
        "client_id": "pks_ci_abc",
        "exp": 1_800_000_000,
        "username": "zoë@example.com",
        "nested": {"list": [1, 2.5, None, True, 'snow ☃ "quoted" \\ / \n']},
    },
    {"error": "invalid_grant", "error_description": "The refresh token is not valid"},
]


@pytest.mark.parametrize("body", BODIES)
def test_the_bytes_and_headers_are_starlettes(body):
    fast = FastJSONResponse(body, headers={"cache-control": "no-store"})
    plain = JSONResponse(body, headers={"cache-control": "no-store"})
    assert fast.body == plain.body
    assert fast.raw_headers == plain.raw_headers
