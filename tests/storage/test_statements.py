"""The store's statements are built once, on first use, never at import (statements.py,
grant_writes.py): per request only their parameters change, and the mutation check's PostgreSQL
pass (docs/testing.md) builds them with its mutant selected."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import piksend
from piksend.storage.oauth import grant_writes
from piksend.storage.oauth import statements as q


def test_importing_the_store_builds_no_statement():
    probe = (
        "import piksend.storage.oauth.store\n"
        "from piksend.storage.oauth import statements as q, grant_writes as g\n"
        "print(sorted(n for n in q._BUILD if n in vars(q)))\n"
        "print([w for w in ('REDEEM_CODE', 'ROTATE_REFRESH_TOKEN')"
        " if 'statement' in vars(getattr(g, w))])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == "[]\n[]\n"


def test_a_statement_is_built_once_and_then_kept_as_the_modules_attribute():
    first = q.CLAIM_CODE
    assert q.CLAIM_CODE is first
    assert vars(q)["CLAIM_CODE"] is first
    assert grant_writes.REDEEM_CODE.statement is grant_writes.REDEEM_CODE.statement


def test_an_unknown_statement_is_an_attribute_error_that_names_it():
    with pytest.raises(AttributeError) as raised:
        q.CLAIM_COED  # noqa: B018
    assert (
        str(raised.value)
        == "module 'piksend.storage.oauth.statements' has no attribute 'CLAIM_COED'"
    )
    assert hasattr(q, "CLAIM_COED") is False


def test_every_statement_the_code_names_is_one_that_can_be_built():
    # The module __getattr__ makes any ``q.NAME`` type-check as a Statement, so a misspelt
    # name would pass mypy and fail only when its request comes: the source is read instead.
    root = Path(piksend.__file__).parent
    used = {
        name
        for path in root.rglob("*.py")
        if re.search(r"import statements as q\b", text := path.read_text())
        for name in re.findall(r"\bq\.([A-Z][A-Z0-9_]+)\b", text)
    }
    assert len(used) > 10
    assert sorted(used - q._BUILD.keys()) == []
