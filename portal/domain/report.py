"""The review report's shape: sections of rows, built from the database's aggregate rows.

Pure. The service hands over the counts and sums each aggregate statement returned; the
builders here add the derived figures (rates, means) with the definitions of
portal.domain.kpis. One shape serves the JSON answer, the CSV files and the page's tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..notify.kinds import NotificationKind
from .kpis import Period, mean, share

Value = str | int | float | None


@dataclass(frozen=True, slots=True)
class Section:
    """One figure: a titled table; `key` columns name a group, the others are its figures."""

    name: str
    title: str
    key: tuple[str, ...]
    figures: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.figures

    def records(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Value]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "period": {
                "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(),
                "timezone": self.period.timezone,
            }
        }
        for section in self.sections:
            body[section.name] = section.records()
        return body


def _rows(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in rows]


def notification_section(
    counts: Iterable[Sequence[Any]], latencies: Mapping[tuple[str, str], tuple[Any, Any]]
) -> Section:
    """counts: (kind, channel, sent, failed, dead); latencies: (kind, channel) -> (p50, p95) s."""
    rows = []
    for kind, channel, sent, failed, dead in _rows(counts):
        p50, p95 = latencies.get((kind, channel), (None, None))
        rows.append((kind, channel, sent, failed, dead, _seconds(p50), _seconds(p95)))
    return Section(
        "notifications",
        "Notifications: change to send, and outcomes",
        ("kind", "channel"),
        ("sent", "failed", "dead", "p50_seconds", "p95_seconds"),
        tuple(sorted(rows, key=lambda r: (str(r[0]), str(r[1])))),
    )


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def on_time_section(rows: Iterable[Sequence[Any]]) -> Section:
    """rows: (carrier, delivered, on_time) for shipments delivered in the period."""
    built = [
        (carrier, delivered, on_time, share(on_time, delivered))
        for carrier, delivered, on_time in _rows(rows)
    ]
    return Section(
        "on_time_by_carrier",
        "On-time delivery by carrier",
        ("carrier",),
        ("delivered", "on_time", "on_time_rate"),
        tuple(sorted(built)),
    )


def eta_section(rows: Iterable[Sequence[Any]]) -> Section:
    """rows: (carrier, delivered, error_days_sum, exact) for delivered shipments with an ETA."""
    built = [
        (carrier, delivered, mean(error_sum, delivered), share(exact, delivered))
        for carrier, delivered, error_sum, exact in _rows(rows)
    ]
    return Section(
        "eta_accuracy_by_carrier",
        "ETA accuracy by carrier (first estimate against delivery)",
        ("carrier",),
        ("delivered", "mae_days", "exact_share"),
        tuple(sorted(built)),
    )


def delay_section(rows: Iterable[Sequence[Any]]) -> Section:
    """rows: (reason_code, delays) for delays opened in the period."""
    built = sorted(_rows(rows), key=lambda r: (-int(r[1]), str(r[0])))
    return Section(
        "delays_by_reason", "Delays by reason", ("reason_code",), ("delays",), tuple(built)
    )


def sla_section(
    opened: int,
    per_target: Iterable[tuple[str, int, int]],
    *,
    first_response: tuple[Any, Any],
    first_target: str = "first_response",
) -> Section:
    """per_target: (target, met, breached) of the inquiries opened in the period.

    The met share is over the decided ones (met or breached): a target still running, paused
    or never started (no customer message after a reply) is not counted either way. The
    median and p90 (business minutes to the first reply sent) belong to the first response.
    No inquiry opened: no rows.
    """
    rows = []
    for target, met, breached in per_target if opened else ():
        median, p90 = first_response if target == first_target else (None, None)
        rows.append(
            (
                target,
                opened,
                met,
                breached,
                share(met, met + breached),
                _minutes(median),
                _minutes(p90),
            )
        )
    return Section(
        "sla",
        "SLA: met share per target, first response in business minutes",
        ("target",),
        SLA_FIGURES,
        tuple(rows),
    )


SLA_FIGURES = ("inquiries", "met", "breached", "met_share", "median_minutes", "p90_minutes")


def _minutes(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


_RESPONSE_FIGURES = (
    "delivered_orders",
    "feedback",
    "review_clicks",
    "responses",
    "response_rate",
    "mean_rating",
)


def _response(orders: int, feedback: int, rating_sum: Any, clicks: int, responses: int) -> tuple:
    return (
        orders,
        feedback,
        clicks,
        responses,
        share(responses, orders),
        mean(None if rating_sum is None else float(rating_sum), feedback),
    )


def feedback_carrier_section(rows: Iterable[Sequence[Any]]) -> Section:
    """rows: (carrier, orders, feedback, rating_sum, clicks, responses), orders delivered."""
    built = [(carrier, *_response(*rest)) for carrier, *rest in _rows(rows)]
    return Section(
        "feedback_by_carrier",
        "Feedback by carrier",
        ("carrier",),
        _RESPONSE_FIGURES,
        tuple(sorted(built)),
    )


@dataclass(frozen=True, slots=True)
class VersionFigures:
    """What followed the notices one template version rendered (sent in the period)."""

    kind: str
    channel: str
    locale: str
    version: int
    sent: int
    orders: int
    delivered: int
    delivered_on_time: int
    feedback: int
    rating_sum: float | None
    clicks: int
    responses: int
    inquiries_48h: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.kind, self.channel, self.locale, self.version)

    @property
    def mean_rating(self) -> float | None:
        return mean(self.rating_sum, self.feedback)

    @property
    def on_time_rate(self) -> float | None:
        return share(self.delivered_on_time, self.delivered)

    @property
    def inquiry_share(self) -> float | None:
        return share(self.inquiries_48h, self.orders)


def feedback_template_section(versions: Iterable[VersionFigures]) -> Section:
    """Feedback after the delivery notice (the invitation), per template version."""
    built = [
        (
            v.channel,
            v.locale,
            v.version,
            *_response(v.orders, v.feedback, v.rating_sum, v.clicks, v.responses),
        )
        for v in versions
        if v.kind == NotificationKind.DELIVERY
    ]
    return Section(
        "feedback_by_template",
        "Feedback by delivery-notice template version",
        ("channel", "locale", "version"),
        _RESPONSE_FIGURES,
        tuple(sorted(built)),
    )


def inquiry_template_section(versions: Iterable[VersionFigures]) -> Section:
    """Inquiries opened within 48 h after a notice, per notice kind and template version."""
    built = [
        (v.kind, v.channel, v.locale, v.version, v.orders, v.inquiries_48h, v.inquiry_share)
        for v in versions
    ]
    return Section(
        "inquiries_after_notice",
        "Inquiries within 48 h after a notice",
        ("kind", "channel", "locale", "version"),
        ("orders_notified", "inquiries_48h", "inquiry_share"),
        tuple(sorted(built)),
    )


def section_csv(section: Section) -> str:
    """One section as CSV: its own columns, one row per group."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(section.columns)
    writer.writerows(["" if v is None else v for v in row] for row in section.rows)
    return out.getvalue()


LONG_COLUMNS = ("section", "group", "metric", "value")


def report_csv(report: Report) -> str:
    """Every section in one CSV, long form: section, group (key=value; ...), metric, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LONG_COLUMNS)
    for section in report.sections:
        for record in section.records():
            group = "; ".join(f"{k}={record[k]}" for k in section.key)
            for metric in section.figures:
                value = record[metric]
                writer.writerow((section.name, group, metric, "" if value is None else value))
    return out.getvalue()
