"""May an edited template be saved? Only when it renders every field the accuracy gate needs.

Pure. A candidate (every part of one kind, channel and locale) is compiled, then rendered
twice through the real TemplateSet and checked by the real gate (portal.notify.gate):

- with the sample order (every field filled): the notice must render and pass the gate, so
  it shows the portal link, and for a shipping notice the tracking number and carrier link;
- with only the fields the kind requires (REQUIRED_FIELDS): a template that uses an optional
  field (an estimate, a compensation) without `{% if ... is defined %}` would fail on the
  first real order without it, so it is refused now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields, replace
from datetime import date

from portal.domain.status import OrderStatus

from .gate import Notice, OrderFacts, check
from .kinds import DELAYED, ORDERLESS_KINDS, Channel, Milestone, NotificationKind
from .samples import sample_context
from .templates import PARTS, NoticeContext, Rendered, RenderError, TemplateSet, required_fields

SAMPLE_RECIPIENTS: Mapping[Channel, str] = {
    Channel.EMAIL: "ada@example.com",
    Channel.SMS: "+14155552671",
    Channel.PHONE: "+14155552671",
}


def announced(kind: NotificationKind, ctx: NoticeContext) -> Milestone:
    """The milestone a notice of `kind` announces for the sample order."""
    milestones: dict[NotificationKind, Milestone] = {
        NotificationKind.ORDER_CONFIRMATION: OrderStatus.PLACED,
        NotificationKind.STATUS_UPDATE: OrderStatus(ctx.status or "processing"),
        NotificationKind.SHIPPING: OrderStatus.SHIPPED,
        NotificationKind.DELAY: DELAYED,
        NotificationKind.DELIVERY: OrderStatus.DELIVERED,
        # A reply answers a question whatever the order's state; the sample's is in transit.
        NotificationKind.INQUIRY_REPLY: OrderStatus.IN_TRANSIT,
    }
    # A kind not tied to a milestone (a reply to a question) goes whatever the order did.
    return milestones.get(kind, OrderStatus(ctx.status or "processing"))


def minimal_context(ctx: NoticeContext, kind: NotificationKind, channel: Channel) -> NoticeContext:
    """`ctx` with every field the notice may lack left out."""
    keep = set(required_fields(kind, channel))
    blank = {
        f.name: f.default for f in fields(ctx) if f.name not in keep and f.default is not MISSING
    }
    return replace(ctx, **blank)


def gate_problem(
    kind: NotificationKind, channel: Channel, ctx: NoticeContext, rendered: Rendered, today: date
) -> str | None:
    """What the accuracy gate says of a rendered sample notice, or None when it may go."""
    milestone = announced(kind, ctx)
    shipping = kind is NotificationKind.SHIPPING
    notice = Notice(
        kind=kind,
        channel=channel,
        recipient=SAMPLE_RECIPIENTS[channel],
        milestone=milestone,
        subject=rendered.subject if channel is Channel.EMAIL else None,
        text=rendered.text,
        html=rendered.html,
        portal_url=None if kind in ORDERLESS_KINDS else ctx.portal_url,
        tracking_number=ctx.tracking_number if shipping else None,
        carrier=ctx.carrier if shipping else None,
        carrier_url=ctx.carrier_url if shipping else None,
    )
    facts = OrderFacts(
        status=milestone if isinstance(milestone, OrderStatus) else OrderStatus.IN_TRANSIT,
        portal_link_valid=True,
        today=today,
        # The sample's parcel is the order's own (a notice lacking the carrier code is not
        # checked against one).
        shipments={ctx.tracking_number: ctx.carrier or ""} if ctx.tracking_number else {},
    )
    verdict = check(notice, facts)
    return None if verdict.ok else verdict.message


def candidate_set(
    base: TemplateSet,
    kind: NotificationKind,
    channel: Channel,
    locale: str,
    parts: Mapping[str, str],
    version: int,
) -> TemplateSet:
    """`base` with the candidate's parts as `version`; RenderError when one does not compile."""
    return base.with_overrides(
        {(kind.value, channel.value, locale, part): (version, parts[part]) for part in parts}
    )


def problems(
    base: TemplateSet,
    kind: NotificationKind,
    channel: Channel,
    locale: str,
    parts: Mapping[str, str],
    *,
    today: date,
    base_url: str,
) -> list[str]:
    """Why the candidate cannot be saved (empty when it can)."""
    missing = [p for p in PARTS[channel] if not (parts.get(p) or "").strip()]
    if missing:
        return [f"the {part} part is empty" for part in missing]
    unknown = sorted(set(parts) - set(PARTS[channel]))
    if unknown:
        return [f"{channel.value} has no part {part!r}" for part in unknown]
    try:
        templates = candidate_set(base, kind, channel, locale, parts, version=0)
    except RenderError as exc:
        return [str(exc)]
    full = sample_context(today, base_url=base_url)
    found: list[str] = []
    for label, ctx in (
        ("the sample order", full),
        ("an order with only the required fields", minimal_context(full, kind, channel)),
    ):
        try:
            rendered = templates.render(kind, channel, locale, ctx)
        except RenderError as exc:
            found.append(f"with {label}: {exc}")
            continue
        if rendered.locale != locale:
            found.append(f"the {locale} templates are incomplete; {rendered.locale} was used")
            continue
        problem = gate_problem(kind, channel, ctx, rendered, today)
        if problem:
            found.append(f"with {label}, the accuracy gate blocks it: {problem}")
    return found
