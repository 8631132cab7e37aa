"""The lock files agree with pyproject.toml, pin every package with hashes, and installs use them.

A dependency added to (or removed from) pyproject.toml without `make lock` fails here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SELF = f"{PROJECT['name']} (pyproject.toml)"


@dataclass
class Pin:
    version: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def parse_lock(text: str) -> dict[str, Pin]:
    """pip-compile's output: `name==version \\`, `--hash=...` lines, then `# via` annotations."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for raw in text.splitlines():
        line = raw.strip()
        pinned = re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", raw)
        if pinned:
            current = pins[canonicalize_name(pinned.group(1))] = Pin(pinned.group(2))
        elif current is not None and line.startswith("--hash="):
            current.hashes.append(line.removeprefix("--hash=").rstrip(" \\"))
        elif current is not None and line.startswith("# via"):
            rest = line.removeprefix("# via").strip()
            if rest:
                current.via.append(rest)
        elif current is not None and line.startswith("#   "):
            current.via.append(line.removeprefix("#").strip())
    return pins


def requirements(group: list[str]) -> dict[str, Requirement]:
    parsed = (Requirement(spec) for spec in group)
    return {canonicalize_name(r.name): r for r in parsed}


RUNTIME = requirements(PROJECT["dependencies"])
TEST = RUNTIME | requirements(PROJECT["optional-dependencies"]["test"])
LOCKS = {"requirements.lock": RUNTIME, "requirements-test.lock": TEST}


@pytest.mark.parametrize("lock_name", sorted(LOCKS))
def test_lock_names_exactly_the_declared_dependencies(lock_name: str) -> None:
    pins = parse_lock((ROOT / lock_name).read_text())
    declared = LOCKS[lock_name]
    direct = {name for name, pin in pins.items() if SELF in pin.via}
    assert direct == set(declared), (
        f"{lock_name} is stale: run `make lock` "
        f"(missing {sorted(set(declared) - direct)}, extra {sorted(direct - set(declared))})"
    )
    for name, requirement in declared.items():
        assert requirement.specifier.contains(pins[name].version, prereleases=True), (
            f"{lock_name}: {name}=={pins[name].version} is outside {requirement}: run `make lock`"
        )


@pytest.mark.parametrize("lock_name", sorted(LOCKS))
def test_every_pin_has_hashes(lock_name: str) -> None:
    pins = parse_lock((ROOT / lock_name).read_text())
    assert len(pins) > len(LOCKS[lock_name])
    for name, pin in pins.items():
        assert pin.hashes and all(h.startswith("sha256:") for h in pin.hashes), name


def test_runtime_and_test_locks_pin_the_same_versions() -> None:
    runtime = parse_lock((ROOT / "requirements.lock").read_text())
    test = parse_lock((ROOT / "requirements-test.lock").read_text())
    assert set(runtime) <= set(test)
    differing = {
        n: (p.version, test[n].version) for n, p in runtime.items() if p.version != test[n].version
    }
    assert not differing, f"run `make lock`: {differing}"


def test_installs_use_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*--require-hashes -r \$\(TEST_LOCK\)", makefile)
    assert "TEST_LOCK := requirements-test.lock" in makefile
    assert re.search(r"^lock:", makefile, re.M)
    assert not re.search(r"pip install [^\n]*-e '?\.\[", makefile), "installs from ranges"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install --require-hashes --no-deps -r requirements\.lock", dockerfile)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.M)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_parse_lock_reads_pip_compile_output() -> None:
    text = (
        "anyio==4.16.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "    # via\n    #   httpx\n    #   starlette\n"
        "Jinja2==3.1.6 \\\n    --hash=sha256:cc\n    # via tracking-portal (pyproject.toml)\n"
    )
    pins = parse_lock(text)
    assert pins["anyio"] == Pin("4.16.0", ["sha256:aa", "sha256:bb"], ["httpx", "starlette"])
    assert pins["jinja2"] == Pin("3.1.6", ["sha256:cc"], ["tracking-portal (pyproject.toml)"])
