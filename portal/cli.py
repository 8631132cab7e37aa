"""The `portal` command: serve, demo, migrate, dispatch, audit, link, api-key, user, webhooks."""

from __future__ import annotations

import argparse
import getpass
import logging
import secrets
import sys
from collections.abc import Sequence

from .settings import SettingsError, load_settings

COMMANDS = (
    "serve",
    "demo",
    "migrate",
    "dispatch",
    "audit",
    "link",
    "api-key",
    "user",
    "webhooks",
    "archive",
    "mail-in",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Self-hosted order-tracking portal")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web server (and a notification dispatcher)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="upgrade the database first")
    serve.add_argument(
        "--no-dispatcher", action="store_true", help="do not send notifications here"
    )

    demo = sub.add_parser("demo", help="embedded demo: demo orders and a carrier simulator")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument(
        "--step-seconds", type=float, default=10.0, help="pause between simulated events"
    )

    sub.add_parser("migrate", help="upgrade the database schema to the latest version")

    dispatch = sub.add_parser("dispatch", help="run a notification dispatcher on its own")
    dispatch.add_argument("--once", action="store_true", help="send what is due, then exit")

    audit = sub.add_parser("audit", help="check that orders and their notifications agree")
    audit.add_argument("--json", action="store_true")

    link = sub.add_parser("link", help="print a new share link, or list or revoke an order's links")
    link.add_argument("order_number")
    link.add_argument("--days", type=int, default=30, help="days until the link expires (0: never)")
    link_what = link.add_mutually_exclusive_group()
    link_what.add_argument("--list", action="store_true", help="list the order's links (no tokens)")
    link_what.add_argument("--revoke", type=int, metavar="ID", help="revoke the link with this id")

    api_key = sub.add_parser("api-key", help="manage API keys")
    api_key_sub = api_key.add_subparsers(dest="action", required=True)
    create_key = api_key_sub.add_parser("create", help="create a key; printed once, stored hashed")
    create_key.add_argument("name")
    create_key.add_argument("--read-only", action="store_true")

    user = sub.add_parser("user", help="manage staff users")
    user_sub = user.add_subparsers(dest="action", required=True)
    create_user = user_sub.add_parser("create", help="create a staff user")
    create_user.add_argument("email")
    create_user.add_argument("--role", choices=("agent", "admin"), required=True)
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )

    webhooks = sub.add_parser("webhooks", help="inspect and replay carrier webhooks")
    webhooks_sub = webhooks.add_subparsers(dest="action", required=True)
    replay = webhooks_sub.add_parser("replay", help="parse and apply a kept webhook again")
    replay.add_argument("id", type=int)
    listing = webhooks_sub.add_parser("list", help="list received webhooks")
    listing.add_argument("--outcome", choices=("applied", "duplicate", "unmatched", "dead_letter"))
    listing.add_argument("--limit", type=int, default=50)

    archive = sub.add_parser("archive", help="archive orders' records for audit")
    archive_sub = archive.add_subparsers(dest="action", required=True)
    export = archive_sub.add_parser(
        "export", help="one <order_number>.json.gz per order changed since a date"
    )
    export.add_argument("--since", required=True, help="ISO date (UTC) or date-time")
    export.add_argument("--out", required=True, help="folder for the files (created if missing)")
    mail_in = sub.add_parser("mail-in", help="receive customers' email replies over SMTP")
    mail_in.add_argument("--host", default="127.0.0.1")
    mail_in.add_argument("--port", type=int, default=2525)
    mail_in.add_argument(
        "--max-size", type=int, default=10 * 1024 * 1024, help="bytes; larger mail is refused"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"portal: configuration error: {exc}", file=sys.stderr)
        return 2
    from . import commands

    handler = getattr(commands, "cmd_" + args.command.replace("-", "_"))
    try:
        return int(handler(settings, args) or 0)
    except commands.CommandError as exc:
        print(f"portal {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def configure_logging() -> None:
    """The portal's own messages at INFO; chatty libraries only when something goes wrong."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt)
    for name in ("alembic", "httpx", "httpcore", "aiosqlite", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat: "):
            raise ValueError("the passwords differ")
        return first
    return ""


def generated_password() -> str:
    return secrets.token_urlsafe(12)
