"""Other modules use the outbox through its public functions, never its private ones."""

from __future__ import annotations

import ast
from pathlib import Path

import portal

ROOT = Path(portal.__file__).parent


def _private_names_from_outbox(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("outbox"):
            names += [a.name for a in node.names if a.name.startswith("_")]
    return names


def test_no_module_imports_a_private_name_of_the_outbox() -> None:
    found = {
        str(path.relative_to(ROOT)): names
        for path in ROOT.rglob("*.py")
        if (names := _private_names_from_outbox(path))
    }
    assert found == {}
