"""Server-drawn SVG bar charts: no script, no CDN, readable at a glance.

Pure: values in, markup out. Each chart is an `<svg role="img">` with a title and a
description; the page puts the same figures in a table beside it for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

LABEL_WIDTH = 190
BAR_AREA = 360
VALUE_WIDTH = 90
BAR_HEIGHT = 16
BAR_GAP = 4
GROUP_GAP = 12
TOP = 8
LEGEND_HEIGHT = 22
WIDTH = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH


@dataclass(frozen=True, slots=True)
class Group:
    """One labelled row of the chart: a value per series (None: no figure for it)."""

    label: str
    values: tuple[float | None, ...]


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def number(value: float) -> str:
    return f"{value:g}"


def _bar(x: float, y: float, width: float, series: int, label: str, text: str) -> str:
    return (
        f'<rect class="chart-bar chart-bar--{series}" x="{x:.1f}" y="{y:.1f}" '
        f'width="{width:.1f}" height="{BAR_HEIGHT}" data-value="{escape(text)}">'
        f"<title>{escape(label)}: {escape(text)}</title></rect>"
        f'<text class="chart-value" x="{x + width + 4:.1f}" y="{y + BAR_HEIGHT - 4:.1f}">'
        f"{escape(text)}</text>"
    )


def _legend(series: Sequence[str], y: float) -> str:
    parts = []
    x = float(LABEL_WIDTH)
    for index, name in enumerate(series):
        parts.append(
            f'<rect class="chart-bar chart-bar--{index}" x="{x:.1f}" y="{y:.1f}" '
            f'width="12" height="12"></rect>'
            f'<text class="chart-legend" x="{x + 16:.1f}" y="{y + 11:.1f}">{escape(name)}</text>'
        )
        x += 24 + 8 * len(name)
    return "".join(parts)


def bar_chart(
    title: str,
    groups: Sequence[Group],
    series: Sequence[str],
    *,
    maximum: float | None = None,
    fmt: Callable[[float], str] = number,
) -> Markup:
    """Horizontal bars, one row per group and one bar per series, scaled to `maximum`.

    Without `maximum` the largest value fills the width. A missing value reads "no data".
    """
    values = [v for g in groups for v in g.values if v is not None]
    top = maximum if maximum is not None else max(values, default=0.0)
    scale = BAR_AREA / top if top > 0 else 0.0
    rows_height = len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    legend = len(series) > 1
    height = TOP + len(groups) * rows_height + (LEGEND_HEIGHT if legend else 0)
    body = []
    y = float(TOP)
    for group in groups:
        label_y = y + (len(series) * (BAR_HEIGHT + BAR_GAP)) / 2 + 4
        body.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{label_y:.1f}" '
            f'text-anchor="end">{escape(group.label)}</text>'
        )
        for index, value in enumerate(group.values):
            name = f"{group.label}, {series[index]}"
            if value is None:
                body.append(
                    f'<text class="chart-value chart-value--none" x="{LABEL_WIDTH}" '
                    f'y="{y + BAR_HEIGHT - 4:.1f}">no data</text>'
                )
            else:
                width = max(value * scale, 1.0) if value > 0 else 0.0
                body.append(_bar(LABEL_WIDTH, y, width, index, name, fmt(value)))
            y += BAR_HEIGHT + BAR_GAP
        y += GROUP_GAP
    if legend:
        body.append(_legend(series, y))
    described = ", ".join(
        f"{g.label}: "
        + "; ".join(
            f"{s} {fmt(v) if v is not None else 'no data'}"
            for s, v in zip(series, g.values, strict=True)
        )
        for g in groups
    )
    svg = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {max(height, 40)}" width="{WIDTH}" height="{max(height, 40)}" '
        f'aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title><desc>{escape(described or 'No data')}</desc>"
        + "".join(body)
        + "</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text in it is escaped above
