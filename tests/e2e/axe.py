"""axe-core accessibility checks for browser tests (axe-core vendored from the npm registry).

    from tests.e2e.axe import assert_no_serious_axe_violations
    assert_no_serious_axe_violations(page)          # the page as it is now

The version is pinned in tests/e2e/vendor/VERSIONS (with the file's SHA-256, checked by
tests/unit/test_axe_vendor.py). The script is evaluated through the DevTools protocol, so the
portal's Content-Security-Policy (script-src 'self') stays as it is in production.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).parent / "vendor"
BLOCKING_IMPACTS = ("serious", "critical")


@cache
def axe_source() -> str:
    return (VENDOR / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page (WCAG 2.x A/AA rules and best practices)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(
        """async () => await window.axe.run(document, {resultTypes: ["violations"]})"""
    )
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {targets}")
    return "\n".join(lines)


def assert_no_serious_axe_violations(page: Any) -> None:
    """Fail with a readable list when the page has a violation of impact serious or critical."""
    blocking = [v for v in axe_violations(page) if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"axe found serious problems on {page.url}:\n{describe(blocking)}"
