from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from portal.notify.gate import UNRENDERED
from portal.notify.kinds import ORDERLESS_KINDS, Channel, NotificationKind
from portal.notify.samples import sample_context
from portal.notify.sms import segments
from portal.notify.templates import (
    REQUIRED_FIELDS,
    NoticeContext,
    RenderError,
    TemplateSet,
    required_fields,
)

TODAY = date(2027, 3, 1)
COMBINATIONS = [
    (kind, channel, locale)
    for kind in NotificationKind
    if kind not in ORDERLESS_KINDS
    for channel in Channel
    for locale in ("en", "es")
]


@pytest.fixture(scope="module")
def templates() -> TemplateSet:
    return TemplateSet.load_default()


@pytest.mark.parametrize(("kind", "channel", "locale"), COMBINATIONS)
def test_every_template_renders_with_a_full_context(
    templates: TemplateSet, kind: NotificationKind, channel: Channel, locale: str
) -> None:
    ctx = sample_context(TODAY)
    rendered = templates.render(kind, channel, locale, ctx)
    assert rendered.locale == locale
    assert rendered.template_version == 1
    assert ctx.order_number in rendered.text
    for part in (rendered.subject, rendered.text, rendered.html):
        assert not UNRENDERED.search(part or "")
    if channel is Channel.EMAIL:
        assert rendered.subject and "\n" not in rendered.subject
        assert rendered.html and rendered.html.startswith("<!DOCTYPE html>")
        assert ctx.portal_url in rendered.text
        assert str(ctx.unsubscribe_url) in rendered.text
        assert f'lang="{locale}"' in rendered.html
    else:
        assert rendered.subject is None and rendered.html is None
    if channel is Channel.SMS:
        assert ctx.portal_url in rendered.text
        # short, and GSM-7 when the shop's data is
        size = segments(rendered.text)
        assert size.encoding == "GSM-7", rendered.text
        assert size.segments <= 2, rendered.text


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            NotificationKind.ORDER_CONFIRMATION,
            ["Blue mug", "Tea towel", "Tuesday, 2 March 2027", "Friday, 5 March 2027"],
        ),
        (NotificationKind.STATUS_UPDATE, ["out for delivery", "Thursday, 4 March 2027"]),
        (
            NotificationKind.SHIPPING,
            [
                "UPS",
                "1Z999AA10123456784",
                "https://www.ups.com/track?tracknum=1Z999AA10123456784",
                "Thursday, 4 March 2027",
            ],
        ),
        (
            NotificationKind.DELAY,
            [
                "Snow closed the depot",
                "Bad weather",
                "Sunday, 7 March 2027",
                "10% refund of shipping",
                "Collect the parcel from a pickup point",
                "Cancel the order for a full refund",
                "help@shop.example",
            ],
        ),
        (
            NotificationKind.DELIVERY,
            [
                "delivered",
                "https://shop.example/t/sample-token/feedback",
                "https://reviews.example/example-shop",
            ],
        ),
    ],
)
def test_email_content_per_sop(
    templates: TemplateSet, kind: NotificationKind, expected: list[str]
) -> None:
    rendered = templates.render(kind, Channel.EMAIL, "en", sample_context(TODAY))
    for fragment in expected:
        assert fragment in rendered.text
        assert fragment in (rendered.html or "")


def test_confirmation_lists_quantities(templates: TemplateSet) -> None:
    rendered = templates.render("order_confirmation", "email", "en", sample_context(TODAY))
    assert "- 2 x Blue mug\n- 1 x Tea towel" in rendered.text
    assert '<td align="right">2</td>' in (rendered.html or "")


def test_spanish_content(templates: TemplateSet) -> None:
    ctx = sample_context(TODAY)
    delay = templates.render(NotificationKind.DELAY, Channel.EMAIL, "es", ctx)
    assert delay.subject == "Example Shop: retraso en su pedido A1001"
    assert "Motivo: Mal tiempo." in delay.text
    assert "Nueva fecha estimada de entrega: domingo, 7 de marzo de 2027" in delay.text
    assert "- Recoger el paquete en un punto de recogida" in delay.text
    status = templates.render(NotificationKind.STATUS_UPDATE, Channel.SMS, "es", ctx)
    assert "en reparto" in status.text and "4 de marzo" in status.text


def test_status_update_says_each_status(templates: TemplateSet) -> None:
    for status, words in [
        ("processing", "being prepared"),
        ("available_for_pickup", "ready for pickup"),
    ]:
        ctx = dataclasses.replace(sample_context(TODAY), status=status)
        assert words in templates.render("status_update", "email", "en", ctx).text


def test_unknown_status_is_a_render_error(templates: TemplateSet) -> None:
    ctx = dataclasses.replace(sample_context(TODAY), status="teleported")
    with pytest.raises(RenderError, match="teleported"):
        templates.render("status_update", "email", "en", ctx)


def test_optional_parts_are_left_out(templates: TemplateSet) -> None:
    ctx = dataclasses.replace(
        sample_context(TODAY), compensation=None, alternatives=(), estimated_delivery=None
    )
    delay = templates.render(NotificationKind.DELAY, Channel.EMAIL, "en", ctx)
    assert "make up for it" not in delay.text and "If you prefer" not in delay.text
    assert "To accept the new date" in delay.text
    shipping = templates.render(NotificationKind.SHIPPING, Channel.SMS, "en", ctx)
    assert "Estimated delivery" not in shipping.text


def test_unknown_locale_falls_back_to_english(templates: TemplateSet) -> None:
    rendered = templates.render("delivery", "email", "fr", sample_context(TODAY))
    assert rendered.locale == "en" and rendered.text.startswith("Hello")
    assert templates.render("delivery", "sms", "es-AR", sample_context(TODAY)).locale == "es"
    assert templates.render("delivery", "sms", None, sample_context(TODAY)).locale == "en"


def test_html_is_escaped_and_text_is_not(templates: TemplateSet) -> None:
    ctx = dataclasses.replace(sample_context(TODAY), customer_name="<b>Ada</b> & Co")
    rendered = templates.render("delivery", "email", "en", ctx)
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; Co" in (rendered.html or "")
    assert "<b>Ada</b> & Co" in rendered.text


def _missing_cases() -> list[tuple[NotificationKind, Channel, str]]:
    cases = []
    for kind in NotificationKind:
        for channel in Channel:
            for name in required_fields(kind, channel):
                cases.append((kind, channel, name))
    return cases


@pytest.mark.parametrize(("kind", "channel", "field"), _missing_cases())
def test_missing_required_field_raises(
    templates: TemplateSet, kind: NotificationKind, channel: Channel, field: str
) -> None:
    empty: Any = () if field == "items" else None
    ctx = dataclasses.replace(sample_context(TODAY), **{field: empty})
    with pytest.raises(RenderError, match=field):
        templates.render(kind, channel, "en", ctx)


def test_required_fields_cover_every_kind() -> None:
    assert set(REQUIRED_FIELDS) == set(NotificationKind)


def test_override_replaces_one_part_and_reports_its_version(templates: TemplateSet) -> None:
    custom = templates.with_overrides(
        {("delivery", "email", "en", "subject"): (3, "Delivered: {{ order_number }}")}
    )
    rendered = custom.render("delivery", "email", "en", sample_context(TODAY))
    assert rendered.subject == "Delivered: A1001"
    assert rendered.template_version == 3
    assert rendered.versions == {"subject": 3, "txt": 1, "html": 1}
    assert custom.source("delivery", "email", "en", "subject") == (
        3,
        "Delivered: {{ order_number }}",
    )
    # the original set is unchanged
    assert templates.render("delivery", "email", "en", sample_context(TODAY)).template_version == 1


def test_override_for_a_new_locale(templates: TemplateSet) -> None:
    custom = TemplateSet.load_default(
        overrides={("delivery", "sms", "fr", "txt"): (1, "Commande {{ order_number }} livrée.")}
    )
    assert custom.render("delivery", "sms", "fr", sample_context(TODAY)).text == (
        "Commande A1001 livrée."
    )
    # no French email templates: English
    assert custom.render("delivery", "email", "fr", sample_context(TODAY)).locale == "en"


def test_override_using_a_missing_field_raises(templates: TemplateSet) -> None:
    custom = templates.with_overrides(
        {("status_update", "sms", "en", "txt"): (2, "{{ order_number }} via {{ tracking_number }}")}
    )
    ctx = dataclasses.replace(sample_context(TODAY), tracking_number=None)
    with pytest.raises(RenderError, match="tracking_number"):
        custom.render("status_update", "sms", "en", ctx)


def test_override_with_a_typo_raises(templates: TemplateSet) -> None:
    custom = templates.with_overrides(
        {("status_update", "sms", "en", "txt"): (2, "{{ order_numbr }}")}
    )
    with pytest.raises(RenderError, match="order_numbr"):
        custom.render("status_update", "sms", "en", sample_context(TODAY))


@pytest.mark.parametrize(
    ("key", "source", "message"),
    [
        (("delivery", "sms", "en", "txt"), "{% if %}", "delivery.sms.txt"),
        (("delivery", "sms", "en", "html"), "x", "sms has no part 'html'"),
        (("newsletter", "sms", "en", "txt"), "x", "newsletter"),
    ],
)
def test_bad_overrides_are_refused(
    templates: TemplateSet, key: tuple[str, str, str, str], source: str, message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        templates.with_overrides({key: (2, source)})


def test_templates_are_sandboxed(templates: TemplateSet) -> None:
    custom = templates.with_overrides(
        {("delivery", "sms", "en", "txt"): (2, "{{ order_number.__class__.__mro__ }}")}
    )
    with pytest.raises(RenderError):
        custom.render("delivery", "sms", "en", sample_context(TODAY))


def test_missing_default_template_is_reported(tmp_path: pytest.TempPathFactory) -> None:
    folder = tmp_path / "en"  # type: ignore[operator]
    folder.mkdir()
    (folder / "delivery.sms.txt").write_text("x", encoding="utf-8")
    with pytest.raises(RenderError, match="missing default templates"):
        TemplateSet.load_default(tmp_path)  # type: ignore[arg-type]


def test_context_dates_relative_to_today() -> None:
    ctx = sample_context(TODAY)
    assert isinstance(ctx, NoticeContext)
    assert ctx.promised_deliver_by == TODAY + timedelta(days=4)


NOT_KNOWN_YET = {
    "en": "We will tell you the new date as soon as the carrier confirms it.",
    "es": "en cuanto la confirme el transportista.",
}


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("channel", list(Channel))
def test_a_delay_without_a_new_date_says_it_is_not_known_yet(
    templates: TemplateSet, channel: Channel, locale: str
) -> None:
    ctx = dataclasses.replace(sample_context(TODAY), new_estimated_delivery=None)
    rendered = templates.render(NotificationKind.DELAY, channel, locale, ctx)
    parts = [rendered.subject, rendered.text, rendered.html]
    for part in parts:
        assert not UNRENDERED.search(part or "")
        assert "2027" not in (part or "")  # no date at all, least of all a passed one
    assert NOT_KNOWN_YET[locale] in rendered.text
    if channel is Channel.EMAIL:
        assert NOT_KNOWN_YET[locale] in " ".join((rendered.html or "").split())
    if channel is Channel.SMS:
        size = segments(rendered.text)
        assert size.encoding == "GSM-7" and size.segments <= 2, rendered.text


@pytest.mark.parametrize(
    ("locale", "offer", "expected", "absent"),
    [
        ("en", True, "To accept our offer or tell us what you prefer", "the new date or"),
        ("en", False, "To tell us what you prefer", "To accept"),
        ("es", True, "Para aceptar nuestra oferta o decirnos qué prefiere", "la nueva fecha o"),
        ("es", False, "Para decirnos qué prefiere", "Para aceptar"),
    ],
)
def test_a_delay_without_a_new_date_asks_no_one_to_accept_it(
    templates: TemplateSet, locale: str, offer: bool, expected: str, absent: str
) -> None:
    ctx = dataclasses.replace(sample_context(TODAY), new_estimated_delivery=None)
    if not offer:
        ctx = dataclasses.replace(ctx, compensation=None, alternatives=())
    rendered = templates.render(NotificationKind.DELAY, Channel.EMAIL, locale, ctx)
    html = " ".join((rendered.html or "").split())
    for text in (rendered.text, html):
        assert expected in text
        assert absent not in text


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("locale", ["en", "es"])
def test_an_answer_about_no_order_says_nothing_of_an_order(
    templates: TemplateSet, channel: Channel, locale: str
) -> None:
    """Even with a full context, an unmatched inquiry's answer shows the agent's text and no
    order number, share link or unsubscribe link (the sender ordered nothing we know of)."""
    ctx = sample_context(TODAY)
    kind = NotificationKind.UNMATCHED_INQUIRY_REPLY
    rendered = templates.render(kind, channel, locale, ctx)
    assert rendered.locale == locale
    assert str(ctx.reply_text) in rendered.text
    for part in (rendered.subject, rendered.text, rendered.html):
        assert not UNRENDERED.search(part or "")
        for order_fact in (ctx.order_number, ctx.portal_url, str(ctx.unsubscribe_url)):
            assert order_fact not in (part or "")
    if channel is Channel.EMAIL:
        assert str(ctx.support_email) in rendered.text
        assert rendered.html and f'lang="{locale}"' in rendered.html
    # Only the three fields it needs: no customer name, order or link.
    bare = NoticeContext(
        shop_name="Example Shop",
        order_number="",
        customer_name="",
        portal_url="",
        support_email="help@shop.example",
        reply_text="None of them left yet.",
    )
    assert "None of them left yet." in templates.render(kind, channel, locale, bare).text
    assert required_fields(kind, channel) == ("shop_name", "reply_text", "support_email")
