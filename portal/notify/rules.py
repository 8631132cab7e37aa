"""Which notices a milestone produces, for whom, over which channel, and when an SMS may go.

Pure: rules are data (a default table that a settings file may override), and planning takes the
milestone, the customer's preferences and contact details and returns the notices to create.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from portal.domain.status import OrderStatus
from portal.notify.kinds import (
    DELAYED,
    MILESTONE_NAMES,
    Channel,
    Milestone,
    NotificationKind,
    parse_milestone,
)

S = OrderStatus
K = NotificationKind
C = Channel


class Scope(StrEnum):
    """What one notice is about: once per order, per shipment, or per delay."""

    ORDER = "order"
    SHIPMENT = "shipment"
    DELAY = "delay"


# The nature of a milestone, not a setting: a shipment ships, a delay opens.
SCOPES: Mapping[Milestone, Scope] = {S.SHIPPED: Scope.SHIPMENT, DELAYED: Scope.DELAY}

# Kinds that make sense for a milestone; anything else in a settings file is a mistake.
ALLOWED_KINDS: Mapping[Milestone, frozenset[NotificationKind]] = {
    S.PLACED: frozenset({K.ORDER_CONFIRMATION, K.STATUS_UPDATE}),
    S.SHIPPED: frozenset({K.SHIPPING, K.STATUS_UPDATE}),
    DELAYED: frozenset({K.DELAY}),
    S.DELIVERED: frozenset({K.DELIVERY, K.STATUS_UPDATE}),
}
_STATUS_ONLY = frozenset({K.STATUS_UPDATE})


class RulesError(ValueError):
    """A rules settings file (or mapping) is invalid; the message lists every problem."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: a milestone announced as `kind` over `channels` (in that order)."""

    milestone: Milestone
    kind: NotificationKind
    channels: tuple[Channel, ...]

    @property
    def scope(self) -> Scope:
        """Whether this rule fires once per order, per shipment or per delay."""
        return SCOPES.get(self.milestone, Scope.ORDER)


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(S.PLACED, K.ORDER_CONFIRMATION, (C.EMAIL, C.SMS)),
    Rule(S.PROCESSING, K.STATUS_UPDATE, (C.EMAIL,)),
    Rule(S.PACKED, K.STATUS_UPDATE, (C.EMAIL,)),
    Rule(S.SHIPPED, K.SHIPPING, (C.EMAIL, C.SMS)),
    Rule(S.OUT_FOR_DELIVERY, K.STATUS_UPDATE, (C.SMS, C.EMAIL)),
    Rule(S.AVAILABLE_FOR_PICKUP, K.STATUS_UPDATE, (C.SMS, C.EMAIL)),
    Rule(DELAYED, K.DELAY, (C.EMAIL, C.PHONE)),
    Rule(S.DELIVERED, K.DELIVERY, (C.EMAIL, C.SMS)),
)


@dataclass(frozen=True, slots=True)
class Rules:
    """The notification table, keyed by milestone. A milestone without a rule sends nothing."""

    by_milestone: Mapping[Milestone, Rule]

    @classmethod
    def default(cls) -> Rules:
        """The shop's standard procedure (DESIGN.md, the table at the top)."""
        return cls({rule.milestone: rule for rule in DEFAULT_RULES})

    def get(self, milestone: Milestone | str) -> Rule | None:
        """The rule for `milestone`, or None when it is not announced."""
        return self.by_milestone.get(parse_milestone(milestone))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base: Rules | None = None) -> Rules:
        """Override `base` (the default table) with the milestones listed in `data`.

        `data` maps a milestone to one of:
        - `null` or `[]`: that milestone sends nothing;
        - a list of channels: keep the milestone's kind, change its channels;
        - `{"kind": ..., "channels": [...]}`: both (kind may be left out when base has one).
        The mapping may also be wrapped as `{"rules": {...}}`. Every problem is reported at once.
        """
        if not isinstance(data, Mapping):
            raise RulesError(f"rules: expected a mapping, got {type(data).__name__}")
        if set(data) == {"rules"}:
            data = data["rules"]
            if not isinstance(data, Mapping):
                raise RulesError(f"rules: expected a mapping, got {type(data).__name__}")
        table = dict((base or cls.default()).by_milestone)
        problems: list[str] = []
        for raw_milestone, spec in data.items():
            try:
                milestone = parse_milestone(raw_milestone)
            except ValueError:
                known = ", ".join(sorted(MILESTONE_NAMES))
                problems.append(f"rules: unknown milestone {raw_milestone!r} (known: {known})")
                continue
            rule = _parse_rule(milestone, spec, table.get(milestone), problems)
            if rule is None:
                table.pop(milestone, None)
            else:
                table[milestone] = rule
        if problems:
            raise RulesError("\n".join(problems))
        return cls(table)


def load_rules(path: str | Path, *, base: Rules | None = None) -> Rules:
    """Read a YAML (.yaml, .yml) or JSON (.json) rules file and apply it over `base`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json"}:
        raise RulesError(f"{path}: rules file must end in .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: cannot read rules file: {exc.strerror}") from exc
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from exc
    if data is None:
        return base or Rules.default()
    try:
        return Rules.from_mapping(data, base=base)
    except RulesError as exc:
        raise RulesError(f"{path}:\n{exc}") from None


def _parse_rule(
    milestone: Milestone, spec: Any, current: Rule | None, problems: list[str]
) -> Rule | None:
    where = f"rules.{milestone.value}"
    if spec is None:
        return None
    kind: NotificationKind | None = current.kind if current else None
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - {"kind", "channels"})
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
        if "kind" in spec:
            try:
                kind = NotificationKind(spec["kind"])
            except ValueError:
                problems.append(f"{where}.kind: unknown kind {spec['kind']!r} (known: {_names(K)})")
                return current
        if "channels" not in spec and current is None:
            problems.append(f"{where}: no channels given and the milestone has none by default")
            return None
        raw_channels = spec.get("channels", list(current.channels) if current else [])
    else:
        raw_channels = spec
    channels = _parse_channels(where, raw_channels, problems)
    if channels is None:
        return current
    if not channels:
        return None
    if kind is None:
        problems.append(f"{where}: no kind given and the milestone has none by default")
        return current
    allowed = ALLOWED_KINDS.get(milestone, _STATUS_ONLY)
    if kind not in allowed:
        problems.append(
            f"{where}.kind: {kind.value!r} cannot announce {milestone.value!r} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
        return current
    return Rule(milestone, kind, channels)


def _parse_channels(where: str, raw: Any, problems: list[str]) -> tuple[Channel, ...] | None:
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        problems.append(f"{where}.channels: expected a list of channels, got {raw!r}")
        return None
    channels: list[Channel] = []
    ok = True
    for index, item in enumerate(raw):
        try:
            channel = Channel(item)
        except ValueError:
            problems.append(
                f"{where}.channels[{index}]: unknown channel {item!r} (known: {_names(C)})"
            )
            ok = False
            continue
        if channel in channels:
            problems.append(f"{where}.channels[{index}]: {channel.value!r} listed twice")
            ok = False
        channels.append(channel)
    return tuple(channels) if ok else None


def _names(enum: type[StrEnum]) -> str:
    return ", ".join(sorted(member.value for member in enum))


@dataclass(frozen=True, slots=True)
class CustomerPrefs:
    """What the customer asked for: channels refused, where they live, when not to text them.

    Quiet hours run from `quiet_start` to `quiet_end` local time and may cross midnight
    (the default, 21:00-08:00); equal times mean no quiet hours.
    """

    opted_out: frozenset[Channel] = field(default_factory=frozenset)
    timezone: str = "UTC"
    locale: str = "en"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "opted_out", frozenset(Channel(c) for c in self.opted_out))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        """The customer's timezone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Contact:
    """Where the customer can be reached; either may be missing."""

    email: str | None = None
    phone: str | None = None

    def address_for(self, channel: Channel) -> str | None:
        """The recipient for `channel`: the email address, or the phone number for SMS and calls."""
        value = self.email if channel is Channel.EMAIL else self.phone
        return (value.strip() or None) if value else None


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    """A notice to create: one kind, over one channel, to one recipient, announcing a milestone."""

    kind: NotificationKind
    channel: Channel
    recipient: str
    milestone: Milestone

    @property
    def scope(self) -> Scope:
        """Whether this notice is once per order, per shipment or per delay."""
        return SCOPES.get(self.milestone, Scope.ORDER)


def plan(
    rules: Rules, milestone: Milestone | str, prefs: CustomerPrefs, contact: Contact
) -> list[PlannedNotice]:
    """The notices `milestone` produces for this customer, in the rule's channel order.

    Channels the customer opted out of, and channels without a recipient (no phone: no SMS, no
    call), are skipped.
    """
    rule = rules.get(milestone)
    if rule is None:
        return []
    notices: list[PlannedNotice] = []
    for channel in rule.channels:
        recipient = contact.address_for(channel)
        if channel in prefs.opted_out or recipient is None:
            continue
        notices.append(PlannedNotice(rule.kind, channel, recipient, rule.milestone))
    return notices


def idempotency_key(order_number: str, notice: PlannedNotice, ref: str | None = None) -> str:
    """A stable key for one notice, so a replayed milestone never sends it twice.

    `ref` names the shipment (per-shipment notices) or the delay (delay notices) and is required
    for those scopes.
    """
    parts = [order_number, notice.milestone.value, notice.kind.value, notice.channel.value]
    if notice.scope is not Scope.ORDER:
        if not ref:
            raise ValueError(f"a {notice.scope.value} notice needs the {notice.scope.value} ref")
        parts.append(ref)
    return ":".join(parts)


def sms_send_after(now_utc: datetime, prefs: CustomerPrefs) -> datetime:
    """When an SMS may go: `now_utc`, or the end of the customer's quiet hours (in UTC).

    Wall-clock times are taken in the customer's timezone, so the answer stays right across a
    daylight-saving change (08:00 local is 08:00 local on the day the clocks move).
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    start, end = prefs.quiet_start, prefs.quiet_end
    if start == end:
        return now_utc.astimezone(UTC)
    zone = prefs.zone
    local = now_utc.astimezone(zone)
    moment = local.time()
    if start < end:
        quiet = start <= moment < end
        end_day = local.date()
    else:
        quiet = moment >= start or moment < end
        end_day = local.date() if moment < end else local.date() + timedelta(days=1)
    if not quiet:
        return now_utc.astimezone(UTC)
    # fold=0: an end time that falls in a spring-forward gap lands just after the gap, and one
    # that occurs twice in the autumn means its first occurrence.
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def send_after(channel: Channel, now_utc: datetime, prefs: CustomerPrefs) -> datetime:
    """When a notice on `channel` may go: email at once; SMS and calls not in quiet hours."""
    if channel is Channel.EMAIL:
        return now_utc.astimezone(UTC)
    return sms_send_after(now_utc, prefs)
