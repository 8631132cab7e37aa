"""Server-drawn SVG bar charts: bars scaled to their values, text escaped, a description."""

from __future__ import annotations

import re

from portal.web.charts import Group, bar_chart, percent


def _widths(svg: str) -> list[float]:
    return [
        float(w)
        for w in re.findall(
            r'class="chart-bar[^"]*" x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="16"', svg
        )
    ]


def test_bars_are_scaled_to_the_maximum() -> None:
    svg = bar_chart(
        "On time",
        [Group("ups", (0.5,)), Group("dhl", (1.0,)), Group("gls", (0.0,))],
        ("on time",),
        maximum=1.0,
        fmt=percent,
    )
    assert _widths(svg) == [180.0, 360.0, 0.0]
    assert 'data-value="50.0%"' in svg and 'data-value="0.0%"' in svg
    assert "<desc>ups: on time 50.0%, dhl: on time 100.0%, gls: on time 0.0%</desc>" in svg
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg


def test_without_a_maximum_the_largest_fills_the_width() -> None:
    svg = bar_chart("Delays", [Group("weather", (4,)), Group("customs", (1,))], ("delays",))
    assert _widths(svg) == [360.0, 90.0]


def test_several_series_get_a_legend_and_missing_values_say_so() -> None:
    svg = bar_chart("Times", [Group("a", (10.0, None))], ("p50", "p95"))
    assert "chart-bar--0" in svg and "no data" in svg
    assert 'class="chart-legend"' in svg and ">p95</text>" in svg


def test_labels_are_escaped() -> None:
    svg = bar_chart("<x>", [Group("<script>", (1.0,))], ("a&b",))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg


def test_no_data_draws_an_empty_chart() -> None:
    svg = bar_chart("Nothing", [], ("a",))
    assert "<desc>No data</desc>" in svg and "<rect" not in svg
