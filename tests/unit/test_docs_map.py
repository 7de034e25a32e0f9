"""CONTRIBUTING.md, docs/architecture.md and docs/testing.md name only modules and tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["CONTRIBUTING.md", "docs/architecture.md", "docs/testing.md"]
# `src/…py`, `tests/…py` or `tests/…py::test_name`, as the documents write them in backticks.
REFERENCE = re.compile(r"`((?:src|tests)/[\w/]+\.py)(?:::(\w+))?`")


def references(text: str) -> list[tuple[str, str | None]]:
    return [(path, test or None) for path, test in REFERENCE.findall(text)]


def defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_the_reference_pattern_reads_paths_and_test_names():
    text = "see `src/piksend/app.py` and `tests/unit/test_pkce.py::test_challenge_rules`"
    assert references(text) == [
        ("src/piksend/app.py", None),
        ("tests/unit/test_pkce.py", "test_challenge_rules"),
    ]


@pytest.mark.parametrize("doc", DOCS)
def test_every_module_and_test_a_document_names_exists(doc):
    found = references((ROOT / doc).read_text())
    assert found, f"{doc} names no module"
    missing = []
    for path, test in found:
        target = ROOT / path
        if not target.is_file():
            missing.append(path)
        elif test is not None and test not in defined_functions(target):
            missing.append(f"{path}::{test}")
    assert missing == []
