"""The README documents every setting and command; deployment files agree with the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from portal.cli import COMMANDS, _parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def environment_variables() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        found |= set(re.findall(r"[\"'](PORTAL_[A-Z_]+)[\"']", path.read_text()))
    return found


def test_every_environment_variable_is_documented() -> None:
    variables = environment_variables()
    assert {"PORTAL_DATABASE_URL", "PORTAL_REDIS_URL", "PORTAL_SECRET_KEY"} <= variables
    missing = sorted(v for v in variables if v not in README)
    assert not missing, f"undocumented: {missing}"


def test_every_cli_command_is_documented_and_parsed() -> None:
    choices = set(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert choices == set(COMMANDS)
    for command in COMMANDS:
        assert f"portal {command}" in README, command


def test_vendored_htmx_is_pinned_and_documented() -> None:
    versions = dict(
        line.split("=", 1) for line in (ROOT / "static/vendor/VERSIONS").read_text().split() if line
    )
    assert versions["htmx.org"].startswith("2.0.")
    assert f"htmx.org {versions['htmx.org']}" in README
    assert f"htmx-ext-ws {versions['htmx-ext-ws']}" in README
    head = (ROOT / "static/vendor/htmx.min.js").read_text()[:20000]
    assert versions["htmx.org"] in head


def test_compose_names_the_services() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "portal-1", "portal-2", "dispatcher"} <= set(services)
    for name in ("postgres", "redis", "portal-1", "portal-2"):
        assert "healthcheck" in services[name], name
    assert (
        "portal dispatch" in " ".join(services["dispatcher"]["command"])
        if isinstance(services["dispatcher"]["command"], list)
        else "portal dispatch" in services["dispatcher"]["command"]
    )


def test_dockerfile_runs_a_real_command() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    assert re.search(r"^USER ", text, re.M)
    cmd = re.search(r"^CMD (\[.*\])", text, re.M)
    assert cmd is not None
    argv = json.loads(cmd.group(1))
    assert argv[0] == "portal" and argv[1] in COMMANDS
    _parser().parse_args(argv[1:])
