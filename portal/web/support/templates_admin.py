"""`/support/templates` (admins): template versions, diffs, previews, and checked edits.

`GET /support/templates` lists each kind x channel x locale; its page lists every version
with who saved it, when, what it changed and its figures (sent, delivered on time after it,
feedback mean, inquiries within 48 h), a diff between two versions, and an editor whose
Preview renders with the sample or a real order and whose Save stores a new version only
when the accuracy gate passes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...domain.staff import Role
from ...errors import PortalError
from ...models import TemplateVersion
from ...notify.kinds import Channel, NotificationKind
from ...notify.samples import sample_context
from ...notify.template_check import problems
from ...notify.templates import PARTS, NoticeContext, RenderError, TemplateSet
from ...services.reports import version_figures
from ...services.template_versions import (
    diff,
    history,
    parse_key,
    preview_context,
    render_candidate,
    save_version,
)
from .session import StaffContext, staff_page

PART_LABELS = {"subject": "Subject", "txt": "Text", "html": "HTML"}


def _path(kind: str, channel: str, locale: str) -> str:
    return f"/support/templates/{kind}/{channel}/{locale}"


@staff_page(role=Role.ADMIN)
async def templates_list(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        base: TemplateSet = await runtime.notifier.templates(session)
        edited = {
            (kind, channel, locale): (versions, last)
            for kind, channel, locale, versions, last in (
                await session.execute(
                    select(
                        col(TemplateVersion.kind),
                        col(TemplateVersion.channel),
                        col(TemplateVersion.locale),
                        func.count(func.distinct(col(TemplateVersion.version))),
                        func.max(col(TemplateVersion.created_at)),
                    ).group_by(
                        col(TemplateVersion.kind),
                        col(TemplateVersion.channel),
                        col(TemplateVersion.locale),
                    )
                )
            ).all()
        }
    rows = []
    for kind in NotificationKind:
        for channel in Channel:
            for locale in sorted(base.locales):
                version, _ = base.source(kind, channel, locale, PARTS[channel][0])
                count, last = edited.get((kind.value, channel.value, locale), (0, None))
                rows.append(
                    {
                        "kind": kind.value,
                        "channel": channel.value,
                        "locale": locale,
                        "version": version,
                        "versions": count + 1,
                        "last": last,
                        "href": _path(kind.value, channel.value, locale),
                    }
                )
    return staff.render("support/templates.html", {"rows": rows})


async def _detail(
    request: Request,
    staff: StaffContext,
    *,
    parts: dict[str, str] | None = None,
    preview: dict[str, Any] | None = None,
    found: list[str] | None = None,
    status: int = 200,
) -> Response:
    runtime = request.app.state.runtime
    kind, channel, locale = parse_key(**request.path_params)
    key = (kind.value, channel.value, locale)
    async with runtime.db.read() as session:
        versions = await history(session, kind, channel, locale)
        base: TemplateSet = await runtime.notifier.templates(session)
        figures = {
            v.key: v for v in await version_figures(session, None, runtime.settings.shop_timezone)
        }
    sample = sample_context(runtime.clock().date(), base_url=runtime.settings.base_url)
    by_number = {v.version: v for v in versions}
    newest = versions[-1]
    a = _int(request.query_params.get("a"), versions[-2].version if len(versions) > 1 else 1)
    b = _int(request.query_params.get("b"), newest.version)
    compared = (by_number.get(a), by_number.get(b))
    context = {
        "kind": kind.value,
        "channel": channel.value,
        "locale": locale,
        "locales": sorted(base.locales),
        "path": _path(*key),
        "versions": [
            {"v": v, "figures": figures.get((*key, v.version))} for v in reversed(versions)
        ],
        "a": a,
        "b": b,
        "diff": diff(compared[0], compared[1]) if compared[0] and compared[1] else None,
        "parts": [(p, PART_LABELS[p], (parts or newest.parts).get(p, "")) for p in PARTS[channel]],
        "next_version": newest.version + 1,
        "in_use": [_in_use(base, kind, channel, other, sample) for other in sorted(base.locales)],
        "preview": preview,
        "problems": found or [],
        "order_number": request.query_params.get("order", ""),
        "saved": request.query_params.get("saved"),
    }
    return staff.render("support/template_detail.html", context, status=status)


def _in_use(
    base: TemplateSet, kind: NotificationKind, channel: Channel, locale: str, ctx: NoticeContext
) -> dict[str, Any]:
    """The version in use in `locale`, rendered with the sample order."""
    try:
        rendered = base.render(kind, channel, locale, ctx)
    except RenderError as exc:
        return {"locale": locale, "error": str(exc), "version": None}
    return {
        "locale": locale,
        "error": None,
        "version": rendered.template_version,
        "subject": rendered.subject,
        "text": rendered.text,
    }


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isdigit() else default


@staff_page(role=Role.ADMIN)
async def template_detail(request: Request, staff: StaffContext) -> Response:
    return await _detail(request, staff)


async def _preview(
    request: Request, parts: dict[str, str], order_number: str
) -> tuple[dict[str, Any] | None, list[str]]:
    runtime = request.app.state.runtime
    kind, channel, locale = parse_key(**request.path_params)
    today = runtime.clock().date()
    async with runtime.db.read() as session:
        base: TemplateSet = await runtime.notifier.templates(session)
        found = problems(
            base, kind, channel, locale, parts, today=today, base_url=runtime.settings.base_url
        )
        try:
            ctx = await preview_context(session, runtime.settings, order_number, kind, today)
            rendered = render_candidate(base, kind, channel, locale, parts, ctx)
        except (RenderError, PortalError) as exc:
            return None, [*found, f"preview: {exc}"]
    return {
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "locale": rendered.locale,
        "order": order_number or "the sample order",
    }, found


@staff_page(role=Role.ADMIN)
async def template_post(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    kind, channel, locale = parse_key(**request.path_params)
    form = await request.form()
    parts = {p: str(form.get(p, "")).replace("\r\n", "\n") for p in PARTS[channel]}
    order_number = str(form.get("order_number", "")).strip()
    if form.get("action") != "save":
        preview, found = await _preview(request, parts, order_number)
        return await _detail(request, staff, parts=parts, preview=preview, found=found)
    try:
        async with runtime.db.write() as session:
            base = await runtime.notifier.templates(session)
            version = await save_version(
                session,
                base,
                kind,
                channel,
                locale,
                parts,
                author=staff.name,
                now=runtime.clock(),
                base_url=runtime.settings.base_url,
            )
    except PortalError as exc:
        found = [d["msg"] for d in exc.details or []] or [exc.message]
        return await _detail(request, staff, parts=parts, found=found, status=exc.status_code)
    target = _path(kind.value, channel.value, locale) + f"?saved={version}"
    return RedirectResponse(target, status_code=303)


routes = [
    Route("/support/templates", templates_list, methods=["GET"]),
    Route("/support/templates/{kind}/{channel}/{locale}", template_detail, methods=["GET"]),
    Route("/support/templates/{kind}/{channel}/{locale}", template_post, methods=["POST"]),
]
