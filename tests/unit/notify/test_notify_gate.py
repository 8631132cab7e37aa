from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from portal.domain.status import OrderStatus
from portal.notify.gate import Notice, OrderFacts, Outcome, Reason, Verdict, check
from portal.notify.kinds import DELAYED, ORDERLESS_KINDS, Channel, Milestone, NotificationKind
from portal.notify.samples import sample_context
from portal.notify.templates import TemplateSet

K, C, M = NotificationKind, Channel, OrderStatus
TODAY = date(2027, 3, 1)
CTX = sample_context(TODAY)
TRACKING = "1Z999AA10123456784"
CARRIER_URL = f"https://www.ups.com/track?tracknum={TRACKING}"
MILESTONE_OF = {
    K.ORDER_CONFIRMATION: M.PLACED,
    K.STATUS_UPDATE: M.OUT_FOR_DELIVERY,
    K.SHIPPING: M.SHIPPED,
    K.DELAY: DELAYED,
    K.DELIVERY: M.DELIVERED,
    K.INQUIRY_REPLY: M.IN_TRANSIT,
}
STATUS_FOR = {
    K.ORDER_CONFIRMATION: M.PLACED,
    K.STATUS_UPDATE: M.OUT_FOR_DELIVERY,
    K.SHIPPING: M.SHIPPED,
    K.DELAY: M.IN_TRANSIT,
    K.DELIVERY: M.DELIVERED,
    K.INQUIRY_REPLY: M.IN_TRANSIT,
}


@pytest.fixture(scope="module")
def templates() -> TemplateSet:
    return TemplateSet.load_default()


def make_notice(
    templates: TemplateSet, kind: NotificationKind, channel: Channel, **changes: Any
) -> Notice:
    rendered = templates.render(kind, channel, "en", CTX)
    recipient = "ada@example.com" if channel is C.EMAIL else "+14155552671"
    notice = Notice(
        kind=kind,
        channel=channel,
        recipient=recipient,
        milestone=MILESTONE_OF[kind],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        portal_url=CTX.portal_url,
        tracking_number=TRACKING if kind is K.SHIPPING else None,
        carrier="ups" if kind is K.SHIPPING else None,
        carrier_url=CARRIER_URL if kind is K.SHIPPING else None,
        eta=CTX.new_estimated_delivery if kind is K.DELAY else CTX.estimated_delivery,
    )
    return dataclasses.replace(notice, **changes)


def facts(status: OrderStatus = M.SHIPPED, **changes: Any) -> OrderFacts:
    base = OrderFacts(
        status=status,
        portal_link_valid=True,
        today=TODAY,
        shipments={TRACKING: "ups"},
        opted_out=frozenset(),
    )
    return dataclasses.replace(base, **changes)


ORDER_KINDS = [k for k in K if k not in ORDERLESS_KINDS]


@pytest.mark.parametrize(("kind", "channel"), [(k, c) for k in ORDER_KINDS for c in C])
def test_rendered_notices_pass(
    templates: TemplateSet, kind: NotificationKind, channel: Channel
) -> None:
    verdict = check(make_notice(templates, kind, channel), facts(STATUS_FOR[kind]))
    assert verdict == Verdict.allow() and verdict.ok


# (case, kind, milestone announced, order status now, expected outcome, reason)
SUPERSESSION = [
    (
        "processing overtaken by packed",
        K.STATUS_UPDATE,
        M.PROCESSING,
        M.PACKED,
        Outcome.SUPERSEDED,
        Reason.OVERTAKEN,
    ),
    (
        "packed overtaken by shipped",
        K.STATUS_UPDATE,
        M.PACKED,
        M.SHIPPED,
        Outcome.SUPERSEDED,
        Reason.OVERTAKEN,
    ),
    (
        "out for delivery after delivered",
        K.STATUS_UPDATE,
        M.OUT_FOR_DELIVERY,
        M.DELIVERED,
        Outcome.SUPERSEDED,
        Reason.ALREADY_DELIVERED,
    ),
    (
        "out for delivery, now at pickup point",
        K.STATUS_UPDATE,
        M.OUT_FOR_DELIVERY,
        M.AVAILABLE_FOR_PICKUP,
        Outcome.SUPERSEDED,
        Reason.OVERTAKEN,
    ),
    (
        "delay once delivered",
        K.DELAY,
        DELAYED,
        M.DELIVERED,
        Outcome.SUPERSEDED,
        Reason.ALREADY_DELIVERED,
    ),
    (
        "confirmation once delivered",
        K.ORDER_CONFIRMATION,
        M.PLACED,
        M.DELIVERED,
        Outcome.SUPERSEDED,
        Reason.ALREADY_DELIVERED,
    ),
    (
        "shipping once delivered",
        K.SHIPPING,
        M.SHIPPED,
        M.DELIVERED,
        Outcome.SUPERSEDED,
        Reason.ALREADY_DELIVERED,
    ),
    (
        "cancelled supersedes a confirmation",
        K.ORDER_CONFIRMATION,
        M.PLACED,
        M.CANCELLED,
        Outcome.SUPERSEDED,
        Reason.ORDER_CANCELLED,
    ),
    (
        "cancelled supersedes a status update",
        K.STATUS_UPDATE,
        M.PROCESSING,
        M.CANCELLED,
        Outcome.SUPERSEDED,
        Reason.ORDER_CANCELLED,
    ),
    (
        "cancelled supersedes a delay",
        K.DELAY,
        DELAYED,
        M.CANCELLED,
        Outcome.SUPERSEDED,
        Reason.ORDER_CANCELLED,
    ),
    (
        "returned supersedes a delivery",
        K.DELIVERY,
        M.DELIVERED,
        M.RETURNED,
        Outcome.SUPERSEDED,
        Reason.ORDER_RETURNED,
    ),
    (
        "announces a status not reached",
        K.STATUS_UPDATE,
        M.OUT_FOR_DELIVERY,
        M.SHIPPED,
        Outcome.BLOCKED,
        Reason.STATUS_MISMATCH,
    ),
    (
        "delivery before delivered",
        K.DELIVERY,
        M.DELIVERED,
        M.OUT_FOR_DELIVERY,
        Outcome.BLOCKED,
        Reason.STATUS_MISMATCH,
    ),
    (
        "cancellation of an order not cancelled",
        K.STATUS_UPDATE,
        M.CANCELLED,
        M.PACKED,
        Outcome.BLOCKED,
        Reason.STATUS_MISMATCH,
    ),
]


@pytest.mark.parametrize(
    ("kind", "announced", "status", "outcome", "reason"),
    [case[1:] for case in SUPERSESSION],
    ids=[case[0] for case in SUPERSESSION],
)
def test_supersession(
    templates: TemplateSet,
    kind: NotificationKind,
    announced: Milestone,
    status: OrderStatus,
    outcome: Outcome,
    reason: Reason,
) -> None:
    notice = make_notice(templates, kind, C.EMAIL, milestone=announced)
    verdict = check(notice, facts(status))
    assert (verdict.outcome, verdict.reason) == (outcome, reason)
    assert verdict.message and not verdict.ok


# Notices that stay worth sending while the order moves on.
STILL_VALID = [
    ("confirmation while processing", K.ORDER_CONFIRMATION, M.PLACED, M.PROCESSING),
    ("shipping while in transit", K.SHIPPING, M.SHIPPED, M.IN_TRANSIT),
    ("shipping while out for delivery", K.SHIPPING, M.SHIPPED, M.OUT_FOR_DELIVERY),
    ("delay while packed", K.DELAY, DELAYED, M.PACKED),
    ("delay while out for delivery", K.DELAY, DELAYED, M.OUT_FOR_DELIVERY),
    ("status update, same status", K.STATUS_UPDATE, M.PACKED, M.PACKED),
    ("the cancellation notice itself", K.STATUS_UPDATE, M.CANCELLED, M.CANCELLED),
]


@pytest.mark.parametrize(
    ("kind", "announced", "status"),
    [case[1:] for case in STILL_VALID],
    ids=[case[0] for case in STILL_VALID],
)
def test_not_superseded(
    templates: TemplateSet, kind: NotificationKind, announced: Milestone, status: OrderStatus
) -> None:
    notice = make_notice(templates, kind, C.EMAIL, milestone=announced)
    assert check(notice, facts(status)).ok


# (case, kind, channel, notice changes, facts changes, reason)
BLOCKS: list[tuple[str, NotificationKind, Channel, dict[str, Any], dict[str, Any], Reason]] = [
    (
        "email opted out",
        K.SHIPPING,
        C.EMAIL,
        {},
        {"opted_out": frozenset({C.EMAIL})},
        Reason.OPTED_OUT,
    ),
    ("sms opted out", K.SHIPPING, C.SMS, {}, {"opted_out": frozenset({C.SMS})}, Reason.OPTED_OUT),
    (
        "email address syntax",
        K.SHIPPING,
        C.EMAIL,
        {"recipient": "ada@@example.com"},
        {},
        Reason.RECIPIENT_INVALID,
    ),
    (
        "email without domain",
        K.SHIPPING,
        C.EMAIL,
        {"recipient": "ada"},
        {},
        Reason.RECIPIENT_INVALID,
    ),
    (
        "phone not E.164",
        K.SHIPPING,
        C.SMS,
        {"recipient": "(415) 555-2671"},
        {},
        Reason.RECIPIENT_INVALID,
    ),
    (
        "phone not a real number",
        K.SHIPPING,
        C.SMS,
        {"recipient": "+1415555"},
        {},
        Reason.RECIPIENT_INVALID,
    ),
    (
        "phone with spaces",
        K.SHIPPING,
        C.SMS,
        {"recipient": "+1 415 555 2671"},
        {},
        Reason.RECIPIENT_INVALID,
    ),
    (
        "call to an email address",
        K.DELAY,
        C.PHONE,
        {"recipient": "ada@example.com"},
        {},
        Reason.RECIPIENT_INVALID,
    ),
    ("empty subject", K.SHIPPING, C.EMAIL, {"subject": "  "}, {}, Reason.SUBJECT_EMPTY),
    ("no subject", K.SHIPPING, C.EMAIL, {"subject": None}, {}, Reason.SUBJECT_EMPTY),
    ("empty body", K.SHIPPING, C.SMS, {"text": " \n"}, {}, Reason.BODY_EMPTY),
    (
        "jinja expression left",
        K.SHIPPING,
        C.SMS,
        {"text": f"Order A1001 {{{{ eta }}}} {CTX.portal_url} {TRACKING} {CARRIER_URL}"},
        {},
        Reason.UNRENDERED,
    ),
    ("jinja block left", K.SHIPPING, C.EMAIL, {"html": "<p>{% if x %}</p>"}, {}, Reason.UNRENDERED),
    ("None printed", K.SHIPPING, C.EMAIL, {"subject": "Order None shipped"}, {}, Reason.UNRENDERED),
    (
        "undefined printed",
        K.SHIPPING,
        C.SMS,
        {"text": f"ETA undefined {CTX.portal_url} {TRACKING} {CARRIER_URL}"},
        {},
        Reason.UNRENDERED,
    ),
    ("no portal link", K.SHIPPING, C.EMAIL, {"portal_url": None}, {}, Reason.PORTAL_LINK_MISSING),
    (
        "portal link not in the text",
        K.SHIPPING,
        C.SMS,
        {"portal_url": "https://shop.example/t/other"},
        {},
        Reason.PORTAL_LINK_MISSING,
    ),
    (
        "portal link revoked",
        K.SHIPPING,
        C.EMAIL,
        {},
        {"portal_link_valid": False},
        Reason.PORTAL_LINK_INVALID,
    ),
    (
        "portal link revoked, phone",
        K.DELAY,
        C.PHONE,
        {},
        {"portal_link_valid": False, "status": M.IN_TRANSIT},
        Reason.PORTAL_LINK_INVALID,
    ),
    (
        "portal link not http",
        K.STATUS_UPDATE,
        C.EMAIL,
        {"portal_url": "javascript:alert(1)", "text": "javascript:alert(1)"},
        {"status": M.OUT_FOR_DELIVERY},
        Reason.PORTAL_LINK_INVALID,
    ),
    (
        "no tracking number",
        K.SHIPPING,
        C.EMAIL,
        {"tracking_number": None},
        {},
        Reason.TRACKING_MISSING,
    ),
    (
        "tracking number not shown",
        K.SHIPPING,
        C.SMS,
        {"text": f"Shipped! {CTX.portal_url}"},
        {},
        Reason.TRACKING_MISSING,
    ),
    (
        "tracking number of another order",
        K.SHIPPING,
        C.EMAIL,
        {},
        {"shipments": {"JD014600003828": "dhl"}},
        Reason.TRACKING_UNKNOWN,
    ),
    (
        "tracking number replaced",
        K.SHIPPING,
        C.EMAIL,
        {},
        {"shipments": {}},
        Reason.TRACKING_UNKNOWN,
    ),
    ("carrier differs", K.SHIPPING, C.EMAIL, {"carrier": "fedex"}, {}, Reason.CARRIER_MISMATCH),
    (
        "carrier link for another parcel",
        K.SHIPPING,
        C.EMAIL,
        {"carrier_url": "https://www.ups.com/track?tracknum=1Z999AA10123456785"},
        {},
        Reason.CARRIER_LINK_MISMATCH,
    ),
    (
        "carrier link with a longer number",
        K.SHIPPING,
        C.EMAIL,
        {"carrier_url": f"https://www.ups.com/track?tracknum={TRACKING}9"},
        {},
        Reason.CARRIER_LINK_MISMATCH,
    ),
    (
        "no carrier link",
        K.SHIPPING,
        C.EMAIL,
        {"carrier_url": None},
        {},
        Reason.CARRIER_LINK_MISMATCH,
    ),
    (
        "carrier link not shown",
        K.SHIPPING,
        C.EMAIL,
        {"carrier_url": f"https://ups.example/{TRACKING}"},
        {},
        Reason.CARRIER_LINK_MISMATCH,
    ),
    (
        "ETA yesterday",
        K.SHIPPING,
        C.EMAIL,
        {"eta": TODAY - timedelta(days=1)},
        {},
        Reason.ETA_IN_PAST,
    ),
    (
        "delay's new ETA passed",
        K.DELAY,
        C.EMAIL,
        {"eta": TODAY - timedelta(days=2)},
        {"status": M.IN_TRANSIT},
        Reason.ETA_IN_PAST,
    ),
]


@pytest.mark.parametrize(
    ("kind", "channel", "notice_changes", "facts_changes", "reason"),
    [case[1:] for case in BLOCKS],
    ids=[case[0] for case in BLOCKS],
)
def test_blocked(
    templates: TemplateSet,
    kind: NotificationKind,
    channel: Channel,
    notice_changes: dict[str, Any],
    facts_changes: dict[str, Any],
    reason: Reason,
) -> None:
    notice = make_notice(templates, kind, channel, **notice_changes)
    verdict = check(notice, facts(**facts_changes))
    assert (verdict.outcome, verdict.reason) == (Outcome.BLOCKED, reason), verdict.message


def _orderless(templates: TemplateSet, channel: Channel = C.EMAIL, **changes: Any) -> Notice:
    kind = K.UNMATCHED_INQUIRY_REPLY
    rendered = templates.render(kind, channel, "en", CTX)
    notice = Notice(
        kind=kind,
        channel=channel,
        recipient="bob@example.net" if channel is C.EMAIL else "+14155552671",
        milestone=None,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )
    return dataclasses.replace(notice, **changes)


@pytest.mark.parametrize("channel", list(C))
def test_an_answer_about_no_order_passes_without_order_facts(
    templates: TemplateSet, channel: Channel
) -> None:
    assert check(_orderless(templates, channel), None).ok
    # Order facts, if a caller had some, change nothing: there is no order to hold it to.
    assert check(_orderless(templates, channel), facts(M.CANCELLED)).ok


# (case, changes to the orderless notice, reason)
ORDERLESS: list[tuple[str, dict[str, Any], Reason]] = [
    ("bad address", {"recipient": "bob@@example.net"}, Reason.RECIPIENT_INVALID),
    ("no subject", {"subject": " "}, Reason.SUBJECT_EMPTY),
    ("no text", {"text": ""}, Reason.BODY_EMPTY),
    ("template syntax in the text", {"text": "Hello {{ name }}"}, Reason.UNRENDERED),
    ("states a share link", {"portal_url": CTX.portal_url}, Reason.ORDER_MISSING),
    ("states a tracking number", {"tracking_number": TRACKING}, Reason.ORDER_MISSING),
    ("states a date", {"eta": TODAY}, Reason.ORDER_MISSING),
]


@pytest.mark.parametrize(("case", "changes", "reason"), ORDERLESS, ids=[c[0] for c in ORDERLESS])
def test_an_answer_about_no_order_is_checked_for_what_needs_no_order(
    templates: TemplateSet, case: str, changes: dict[str, Any], reason: Reason
) -> None:
    verdict = check(_orderless(templates, **changes), None)
    assert (verdict.outcome, verdict.reason) == (Outcome.BLOCKED, reason), verdict.message


def test_an_agents_none_is_a_word_in_an_answer_about_no_order(templates: TemplateSet) -> None:
    assert check(_orderless(templates, text="None of them has left yet."), None).ok


@pytest.mark.parametrize("kind", ORDER_KINDS)
def test_a_notice_about_an_order_without_its_facts_is_blocked(
    templates: TemplateSet, kind: NotificationKind
) -> None:
    verdict = check(make_notice(templates, kind, C.EMAIL), None)
    assert (verdict.outcome, verdict.reason) == (Outcome.BLOCKED, Reason.ORDER_MISSING)


def test_every_reason_has_a_case() -> None:
    covered = {case[-1] for case in SUPERSESSION} | {case[-1] for case in BLOCKS}
    covered |= {case[-1] for case in ORDERLESS}
    assert covered == set(Reason)


def test_carrier_link_is_compared_url_decoded(templates: TemplateSet) -> None:
    number = "JD 0146/0000"
    url = "https://track.example/?n=JD%200146%2F0000"
    notice = make_notice(
        templates,
        K.SHIPPING,
        C.EMAIL,
        tracking_number=number,
        carrier="dhl",
        carrier_url=url,
        text=f"{number} {url} {CTX.portal_url}",
    )
    assert check(notice, facts(shipments={number: "dhl"})).ok


def test_eta_today_is_fine(templates: TemplateSet) -> None:
    notice = make_notice(templates, K.SHIPPING, C.EMAIL, eta=TODAY)
    assert check(notice, facts()).ok


def test_phone_script_needs_no_link_in_its_text(templates: TemplateSet) -> None:
    notice = make_notice(templates, K.DELAY, C.PHONE)
    assert CTX.portal_url not in notice.text
    assert check(notice, facts(M.IN_TRANSIT)).ok


def test_string_values_are_accepted(templates: TemplateSet) -> None:
    notice = make_notice(templates, K.SHIPPING, C.EMAIL)
    as_strings = dataclasses.replace(notice, kind="shipping", channel="email", milestone="shipped")  # type: ignore[arg-type]
    assert check(as_strings, facts(status="in_transit", opted_out=frozenset({"sms"}))).ok  # type: ignore[arg-type]


def test_an_order_status_is_never_delayed() -> None:
    with pytest.raises(ValueError):
        facts(DELAYED)


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("channel", list(C))
def test_a_delay_without_a_new_date_passes(
    templates: TemplateSet, channel: Channel, locale: str
) -> None:
    # Opened after the old estimate passed, before the carrier gave a new one: the notice
    # states no date, and says so.
    ctx = dataclasses.replace(CTX, new_estimated_delivery=None)
    rendered = templates.render(K.DELAY, channel, locale, ctx)
    notice = Notice(
        kind=K.DELAY,
        channel=channel,
        recipient="ada@example.com" if channel is C.EMAIL else "+14155552671",
        milestone=DELAYED,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        portal_url=CTX.portal_url,
        eta=None,
    )
    late = TODAY + timedelta(days=30)
    assert check(notice, facts(M.IN_TRANSIT, today=late)) == Verdict.allow()
