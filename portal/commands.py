"""What each `portal` sub-command does; argument parsing lives in portal.cli."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from .cli import generated_password, read_password
from .db import Database
from .settings import Settings


class CommandError(Exception):
    """A command could not do what was asked; the message says why."""


async def _with_db(settings: Settings, migrated: bool = True) -> Database:
    db = Database(settings.database_url, pool_size=2)
    if migrated and not await db.is_migrated():
        await db.dispose()
        raise CommandError("the database is not migrated: run `portal migrate` first")
    return db


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> str | None:
        db = Database(settings.database_url, pool_size=2)
        try:
            await db.migrate()
            return await db.current_revision()
        finally:
            await db.dispose()

    revision = asyncio.run(run())
    print(f"database at revision {revision}")
    return 0


def _check_migrated(settings: Settings) -> None:
    async def run() -> bool:
        db = Database(settings.database_url, pool_size=1)
        try:
            return await db.is_migrated()
        finally:
            await db.dispose()

    if not asyncio.run(run()):
        raise CommandError(
            "the database is not migrated to the latest schema: run `portal migrate` "
            "(or start with `portal serve --migrate`)"
        )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .server import uvicorn_kwargs

    if args.migrate:
        cmd_migrate(settings, args)
    else:
        _check_migrated(settings)
    if args.workers > 1 and not settings.redis_url:
        print("portal serve: warning: without PORTAL_REDIS_URL, workers do not share live updates")
    dispatcher = settings.dispatcher and not args.no_dispatcher
    if args.workers > 1:
        # Several workers need an import string: each process builds its own app from the
        # environment it inherits, so the one override travels as the factory's name.
        factory = "portal.asgi:build" if dispatcher else "portal.asgi:build_without_dispatcher"
        uvicorn.run(**uvicorn_kwargs(args.host, args.port, workers=args.workers, app=factory))
    else:
        app = create_app(settings, dispatcher=dispatcher, freeze_heap=True)
        uvicorn.Server(uvicorn.Config(**uvicorn_kwargs(args.host, args.port, app=app))).run()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(settings, host=args.host, port=args.port, step_seconds=args.step_seconds)


def cmd_dispatch(settings: Settings, args: argparse.Namespace) -> int:
    from .services.dispatch import run_standalone

    return asyncio.run(run_standalone(settings, once=args.once))


def cmd_mail_in(settings: Settings, args: argparse.Namespace) -> int:
    from .mail_in import run_mail_in

    return asyncio.run(run_mail_in(settings, args.host, args.port, args.max_size))


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from .clock import utcnow
    from .services.audit import audit_all
    from .services.outbox import Notifier

    async def run() -> list[dict[str, Any]]:
        db = await _with_db(settings)
        try:
            return await audit_all(db, Notifier.from_settings(settings).rules, utcnow())
        finally:
            await db.dispose()

    findings = asyncio.run(run())
    if args.json:
        print(json.dumps({"findings": findings}, indent=2))
    else:
        for finding in findings:
            print(f"{finding['order_number'] or '(no order)'}: {finding['problem']}")
        print(f"{len(findings)} finding(s)")
    return 1 if findings else 0


def cmd_link(settings: Settings, args: argparse.Namespace) -> int:
    if args.list or args.revoke is not None:
        return _link_list_or_revoke(settings, args)
    from .clock import utcnow
    from .services.links import issue_link
    from .services.timeline import lock_order

    async def run() -> str:
        db = await _with_db(settings)
        try:
            async with db.write() as session:
                try:
                    order = await lock_order(session, args.order_number)
                except Exception as exc:
                    raise CommandError(str(exc)) from None
                issued = issue_link(
                    session,
                    order,
                    now=utcnow(),
                    expires_in_days=args.days or None,
                    created_by="cli",
                )
            return settings.url(issued.path())
        finally:
            await db.dispose()

    print(asyncio.run(run()))
    return 0


def _link_list_or_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from .errors import PortalError
    from .services.screen.link_cli import list_order_links, revoke_from_cli

    async def run() -> Any:
        db = await _with_db(settings)
        try:
            if args.list:
                return await list_order_links(db, args.order_number)
            return await revoke_from_cli(settings, db, args.order_number, args.revoke)
        except PortalError as exc:
            raise CommandError(exc.message) from None
        finally:
            await db.dispose()

    result = asyncio.run(run())
    if args.list:
        for link in result:
            state = "revoked " + link["revoked_at"] if link["revoked_at"] else "live"
            print(
                f"{link['id']}\t{link['created_at']}\t{link['created_by']}\t{state}\t"
                f"expires {link['expires_at'] or 'never'}\tuses {link['use_count']}"
            )
    else:
        print(f"link {result['id']} revoked at {result['revoked_at']}")
    return 0


def cmd_api_key(settings: Settings, args: argparse.Namespace) -> int:
    from .clock import utcnow
    from .services.api_keys import READ_SCOPES, WRITE_SCOPES, create_api_key

    async def run() -> str:
        db = await _with_db(settings)
        try:
            scopes = READ_SCOPES if args.read_only else WRITE_SCOPES
            return await create_api_key(db, args.name, now=utcnow(), scopes=scopes)
        finally:
            await db.dispose()

    key = asyncio.run(run())
    print(f"API key {args.name!r} created; it is shown once, store it now:")
    print(key)
    return 0


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from .clock import utcnow
    from .models import StaffUser
    from .schemas import normalise_email
    from .security import hash_password

    try:
        email = normalise_email(args.email).lower()
    except ValueError as exc:
        raise CommandError(f"invalid email: {exc}") from None
    try:
        password = read_password(args.password_stdin)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    generated = not password
    if generated:
        password = generated_password()
    elif len(password) < 10:
        raise CommandError("the password must be at least 10 characters")

    async def run() -> None:
        db = await _with_db(settings)
        try:
            async with db.write() as session:
                taken = await session.execute(
                    select(col(StaffUser.id)).where(col(StaffUser.email) == email)
                )
                if taken.first() is not None:
                    raise CommandError(f"a user {email} already exists")
                session.add(
                    StaffUser(
                        email=email,
                        password_hash=hash_password(password),
                        role=args.role,
                        created_at=utcnow(),
                    )
                )
        finally:
            await db.dispose()

    asyncio.run(run())
    print(f"user {email} created with role {args.role}")
    if generated:
        print(f"generated password (shown once): {password}")
    return 0


def cmd_webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from .services.webhooks_admin import list_receipts, replay_receipt

    if args.action == "list":
        rows = asyncio.run(list_receipts(settings, args.outcome, args.limit))
        for row in rows:
            print(
                f"{row['id']:>6}  {row['received_at']}  {row['carrier']:<10} {row['outcome']:<12} "
                f"{row['tracking_numbers'] or '-'}  {row['error'] or ''}".rstrip()
            )
        print(f"{len(rows)} receipt(s)")
        return 0
    result = asyncio.run(replay_receipt(settings, args.id))
    print(json.dumps(result))
    return 0 if result["outcome"] in ("applied", "unmatched", "duplicate") else 1


def cmd_archive(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from .services.archive_export import export_archives, parse_since

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    async def run() -> tuple[int, int]:
        db = await _with_db(settings)
        try:
            result = await export_archives(db, since, out)
            return result.orders, result.bytes_written
        finally:
            await db.dispose()

    orders, size = asyncio.run(run())
    print(f"{orders} order(s) archived to {out} ({size} bytes); nothing was deleted")
    return 0
