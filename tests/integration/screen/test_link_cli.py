"""`portal link ORDER --list | --revoke ID`, as a process, on the embedded database."""

from __future__ import annotations

from tests.integration.test_migrations_cli import cli_env, place_order, run_cli

__all__ = ["cli_env"]


async def test_list_and_revoke_from_the_command_line(cli_env: dict[str, str]) -> None:
    assert run_cli(["migrate"], cli_env).returncode == 0
    url = f"sqlite+aiosqlite:///{cli_env['PORTAL_INSTANCE_DIR']}/portal.db"
    await place_order(url, "CLI-2")
    made = run_cli(["link", "CLI-2", "--days", "3"], cli_env)
    token = made.stdout.strip().rsplit("/", 1)[1]

    listed = run_cli(["link", "CLI-2", "--list"], cli_env)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.strip().splitlines()]
    assert [row[2] for row in rows] == ["cli", "placement"]
    assert [row[3] for row in rows] == ["live", "live"]
    assert token not in listed.stdout

    newest = rows[0][0]
    revoked = run_cli(["link", "CLI-2", "--revoke", newest], cli_env)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith(f"link {newest} revoked at ")
    after = run_cli(["link", "CLI-2", "--list"], cli_env)
    assert after.stdout.splitlines()[0].split("\t")[3].startswith("revoked ")

    unknown = run_cli(["link", "CLI-2", "--revoke", "99999"], cli_env)
    assert unknown.returncode == 1 and "no link 99999" in unknown.stderr
    both = run_cli(["link", "CLI-2", "--list", "--revoke", newest], cli_env)
    assert both.returncode == 2
