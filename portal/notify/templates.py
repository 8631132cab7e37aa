"""Notification texts: versioned Jinja2 templates per kind, channel, locale and part.

Shipped defaults live in `templates/notifications/{locale}/{kind}.{channel}.{part}` (version 1);
staff-edited versions come from the database as overrides. Templates run sandboxed (staff edit
them) with StrictUndefined: a context field that is None is not passed at all, so a template
that uses a field its notice lacks fails with RenderError instead of printing "None".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from portal.notify.dates import format_date
from portal.notify.kinds import ORDERLESS_KINDS, Channel, NotificationKind
from portal.notify.locales import DEFAULT_LOCALE, resolve_locale
from portal.notify.wording import alternative_words, reason_words, status_words

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "templates" / "notifications"

PARTS: Mapping[Channel, tuple[str, ...]] = {
    Channel.EMAIL: ("subject", "txt", "html"),
    Channel.SMS: ("txt",),
    Channel.PHONE: ("txt",),
}

# (kind, channel, locale, part)
TemplateKey = tuple[NotificationKind, Channel, str, str]
Overrides = Mapping[tuple[str, str, str, str], tuple[int, str]]


class RenderError(Exception):
    """A notice cannot be rendered: a field its kind needs is missing, or a template is broken."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeContext:
    """Everything a notice may say, as plain values. Which fields a kind needs: REQUIRED_FIELDS."""

    shop_name: str
    order_number: str
    customer_name: str
    portal_url: str
    items: tuple[tuple[str, int], ...] = ()
    status: str | None = None
    promised_ship_by: date | None = None
    promised_deliver_by: date | None = None
    estimated_delivery: date | None = None
    unsubscribe_url: str | None = None
    carrier: str | None = None
    carrier_name: str | None = None
    tracking_number: str | None = None
    carrier_url: str | None = None
    delay_reason_code: str | None = None
    delay_message: str | None = None
    new_estimated_delivery: date | None = None
    compensation: str | None = None
    alternatives: tuple[str, ...] = ()
    feedback_url: str | None = None
    review_url: str | None = None
    support_email: str | None = None
    reply_text: str | None = None


_ALWAYS = ("shop_name", "order_number", "customer_name", "portal_url")

REQUIRED_FIELDS: Mapping[NotificationKind, tuple[str, ...]] = {
    NotificationKind.ORDER_CONFIRMATION: (
        *_ALWAYS,
        "items",
        "promised_ship_by",
        "promised_deliver_by",
    ),
    NotificationKind.STATUS_UPDATE: (*_ALWAYS, "status"),
    NotificationKind.SHIPPING: (*_ALWAYS, "carrier_name", "tracking_number", "carrier_url"),
    # A delay may open before anyone knows the new date: the notice then says so.
    NotificationKind.DELAY: (*_ALWAYS, "delay_reason_code", "delay_message", "support_email"),
    NotificationKind.DELIVERY: (*_ALWAYS, "feedback_url", "review_url"),
    NotificationKind.INQUIRY_REPLY: (*_ALWAYS, "reply_text"),
    # About no order: no order number, share link or customer name is known.
    NotificationKind.UNMATCHED_INQUIRY_REPLY: ("shop_name", "reply_text", "support_email"),
}
CHANNEL_FIELDS: Mapping[Channel, tuple[str, ...]] = {Channel.EMAIL: ("unsubscribe_url",)}


def required_fields(kind: NotificationKind | str, channel: Channel | str) -> tuple[str, ...]:
    """The context fields a notice of `kind` over `channel` cannot do without."""
    kind = NotificationKind(kind)
    if kind in ORDERLESS_KINDS:  # an answer to the sender's own mail: no orders to unsubscribe
        return REQUIRED_FIELDS[kind]
    return REQUIRED_FIELDS[kind] + CHANNEL_FIELDS.get(Channel(channel), ())


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered notice. `template_version` is the highest version of the parts used."""

    subject: str | None
    text: str
    html: str | None
    template_version: int
    locale: str
    versions: Mapping[str, int]


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != ()


def _variables(ctx: NoticeContext, locale: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        f.name: getattr(ctx, f.name) for f in fields(ctx) if getattr(ctx, f.name) is not None
    }
    values = {k: v for k, v in values.items() if v != ""}
    values["locale"] = locale
    values["item_count"] = sum(quantity for _, quantity in ctx.items)
    return values


@pass_context
def _longdate(context: Context, value: date) -> str:
    return format_date(value, context.get("locale"), "long")


@pass_context
def _shortdate(context: Context, value: date) -> str:
    return format_date(value, context.get("locale"), "short")


@pass_context
def _status_words(context: Context, value: str) -> str:
    try:
        return status_words(value, context.get("locale"))
    except KeyError:
        raise RenderError(f"no words for order status {value!r}") from None


@pass_context
def _reason_words(context: Context, value: str) -> str:
    return reason_words(value, context.get("locale"))


@pass_context
def _alternative_words(context: Context, value: str) -> str:
    return alternative_words(value, context.get("locale"))


def _sentence(value: str) -> str:
    return value[:1].upper() + value[1:]


def _full_stop(value: str) -> str:
    value = value.rstrip()
    return value if value.endswith((".", "!", "?")) else value + "."


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        longdate=_longdate,
        shortdate=_shortdate,
        status_words=_status_words,
        reason_words=_reason_words,
        alternative_words=_alternative_words,
        sentence=_sentence,
        full_stop=_full_stop,
    )
    return env


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)
_BLANK_RUNS = re.compile(r"\n{3,}")


def _normalise_key(key: tuple[str, str, str, str]) -> TemplateKey:
    kind, channel, locale, part = key
    try:
        normalised = (NotificationKind(kind), Channel(channel), locale.lower(), part)
    except ValueError as exc:
        raise RenderError(f"template {'/'.join(key)}: {exc}") from None
    if part not in PARTS[normalised[1]]:
        raise RenderError(f"template {'/'.join(key)}: {channel} has no part {part!r}")
    return normalised


def _compile(key: TemplateKey, source: str) -> Template:
    env = _HTML_ENV if key[3] == "html" else _TEXT_ENV
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise RenderError(f"template {_label(key)}: {exc}") from exc


def _label(key: TemplateKey) -> str:
    kind, channel, locale, part = key
    return f"{locale}/{kind.value}.{channel.value}.{part}"


def _tidy(part: str, output: str) -> str:
    if part == "subject":
        return " ".join(output.split())
    lines = "\n".join(line.rstrip() for line in output.strip().splitlines())
    return _BLANK_RUNS.sub("\n\n", lines)


class TemplateSet:
    """Compiled templates, each with its version; `render` turns a context into a notice."""

    def __init__(self, sources: Mapping[tuple[str, str, str, str], tuple[int, str]]) -> None:
        self._sources: dict[TemplateKey, tuple[int, str]] = {}
        self._compiled: dict[TemplateKey, Template] = {}
        for raw_key, (version, source) in sources.items():
            key = _normalise_key(raw_key)
            self._sources[key] = (version, source)
            self._compiled[key] = _compile(key, source)

    @classmethod
    def load_default(
        cls, directory: Path | None = None, overrides: Overrides | None = None
    ) -> TemplateSet:
        """Load the shipped templates (version 1 each), then apply `overrides`.

        `overrides` maps (kind, channel, locale, part) to (version, source): the edited
        versions the database holds. Every kind and channel must have its English parts.
        """
        sources = read_directory(directory or DEFAULT_DIRECTORY)
        missing = [
            f"{DEFAULT_LOCALE}/{kind.value}.{channel.value}.{part}"
            for kind in NotificationKind
            for channel, parts in PARTS.items()
            for part in parts
            if (kind.value, channel.value, DEFAULT_LOCALE, part) not in sources
        ]
        if missing:
            raise RenderError(f"missing default templates: {', '.join(missing)}")
        return cls({**sources, **(overrides or {})})

    def with_overrides(self, overrides: Overrides) -> TemplateSet:
        """A new set with `overrides` applied over this one."""
        current = {
            (k.value, c.value, loc, part): value
            for (k, c, loc, part), value in self._sources.items()
        }
        return TemplateSet({**current, **overrides})

    def source(self, kind: str, channel: str, locale: str, part: str) -> tuple[int, str]:
        """The (version, source) in use for one part, after locale fallback."""
        key = _normalise_key((kind, channel, locale, part))
        resolved = self._resolve_locale(key[0], key[1], locale)
        return self._sources[(key[0], key[1], resolved, part)]

    @property
    def locales(self) -> frozenset[str]:
        """Every locale with at least one template."""
        return frozenset(key[2] for key in self._sources)

    def _resolve_locale(self, kind: NotificationKind, channel: Channel, locale: str) -> str:
        complete = {
            loc
            for loc in self.locales
            if all((kind, channel, loc, part) in self._sources for part in PARTS[channel])
        }
        return resolve_locale(locale, complete)

    def render(
        self,
        kind: NotificationKind | str,
        channel: Channel | str,
        locale: str | None,
        ctx: NoticeContext,
    ) -> Rendered:
        """Render a notice; raises RenderError when a field the notice needs is missing.

        An unknown locale falls back to English; `es-MX` uses `es`.
        """
        kind, channel = NotificationKind(kind), Channel(channel)
        missing = [
            name for name in required_fields(kind, channel) if not _present(getattr(ctx, name))
        ]
        if missing:
            raise RenderError(f"{kind.value} by {channel.value} needs {', '.join(missing)}")
        resolved = self._resolve_locale(kind, channel, locale or DEFAULT_LOCALE)
        variables = _variables(ctx, resolved)
        out: dict[str, str] = {}
        versions: dict[str, int] = {}
        for part in PARTS[channel]:
            key = (kind, channel, resolved, part)
            try:
                rendered = self._compiled[key].render(variables)
            except RenderError:
                raise
            except Exception as exc:  # a template may fail in many ways; each one blocks it
                raise RenderError(f"template {_label(key)}: {exc}") from exc
            out[part] = _tidy(part, rendered)
            versions[part] = self._sources[key][0]
        return Rendered(
            subject=out.get("subject"),
            text=out["txt"],
            html=out.get("html"),
            template_version=max(versions.values()),
            locale=resolved,
            versions=versions,
        )


def read_directory(directory: Path) -> dict[tuple[str, str, str, str], tuple[int, str]]:
    """Read `{locale}/{kind}.{channel}.{part}` files under `directory`, each as version 1."""
    sources: dict[tuple[str, str, str, str], tuple[int, str]] = {}
    for path in sorted(directory.glob("*/*.*.*")):
        kind, channel, part = path.name.split(".", 2)
        key = (kind, channel, path.parent.name, part)
        _normalise_key(key)  # an unexpected file name is a mistake worth a clear error
        sources[key] = (1, path.read_text(encoding="utf-8"))
    return sources
