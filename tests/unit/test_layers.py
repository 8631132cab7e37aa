"""Dependency direction (DESIGN.md "Layout", issue 11): checked on the source, import by import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("portal/services", "portal.web"),
        ("portal/domain", "portal.web"),
        ("portal/notify", "portal.web"),
        ("portal/domain", "portal.services"),
        ("carriers", "portal"),
        ("realtime", "portal"),
    ],
)
def test_inner_layers_do_not_import_outer_ones(folder: str, forbidden: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imports(path) if name == forbidden or name.startswith(forbidden + ".")
        )
        for path in sorted((ROOT / folder).rglob("*.py"))
    }
    assert {file: names for file, names in wrong.items() if names} == {}


def test_the_live_socket_takes_its_context_from_the_one_builder() -> None:
    names = _imports(ROOT / "portal/web/live.py")
    assert "portal.web.pages" not in names
    assert "portal.web.live_context.live_context" in names
