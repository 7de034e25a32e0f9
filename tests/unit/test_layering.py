"""DESIGN.md: piksend.oauth imports only the standard library and itself (a pure core)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import piksend.oauth

ALLOWED_PIKSEND = ("piksend.oauth", "piksend.errors")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_oauth_core_imports_only_the_standard_library_and_itself():
    offenders = []
    for path in Path(piksend.oauth.__file__).parent.rglob("*.py"):
        for name in imports_of(path):
            top = name.split(".")[0]
            if name.startswith(ALLOWED_PIKSEND) or top == "__future__":
                continue
            if top not in sys.stdlib_module_names:
                offenders.append(f"{path.name}: {name}")
    assert offenders == []
