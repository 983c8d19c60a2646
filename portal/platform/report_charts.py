"""Report charts drawn as inline SVG on the server: no JavaScript, nothing downloaded, nothing
the strict CSP has to allow (SVG presentation attributes such as ``fill`` are not ``style``).

The drawing is complete enough for business charts: a value axis with round ticks that takes
negative values (MRR churn goes below the zero line), a category axis whose labels are thinned
when they would overlap, side-by-side bars, stacked bars (positives up, negatives down from
zero), lines with points, a legend that wraps, and a tooltip (``<title>``) on every bar and point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from babel.numbers import format_decimal
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from portal.platform.reports import Chart

#: Series colours (Bootstrap's palette), repeated when there are more series.
COLOURS = ("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#6c757d")

# Pixel geometry is drawing, not money: floats are fine here.
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP = 64, 16, 28
AXIS_LABELS = 22  # room under the plot for the category labels
LEGEND_ROW = 18
GRID_LINES = 4
CHAR_WIDTH = 6.5  # an average glyph at font-size 11, to lay out labels and the legend


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n not below ``value`` (a readable axis maximum)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def axis_range(low: float, high: float) -> tuple[float, float, float]:
    """``(bottom, top, step)`` of a value axis that holds ``low``..``high`` and zero, in round
    steps: about :data:`GRID_LINES` of them."""
    low, high = min(low, 0.0), max(high, 0.0)
    if low == high:
        return 0.0, 1.0, 0.25
    step = nice_ceiling((high - low) / GRID_LINES)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _locale() -> str | None:
    """The page's locale when drawn for a request (numbers in its digits), else None."""
    from flask import has_request_context

    if not has_request_context():
        return None
    from flask_babel import get_locale

    return str(get_locale())


def _number(value: float) -> str:
    """An axis label: whole numbers with thin-space thousands (12 500), millions as 1.5M,
    fractions (a rate's 0.25) in the page's digits ("0,25" in Russian)."""
    if abs(value) >= 1_000_000 and value == int(value):
        millions = value / 1_000_000
        return (f"{millions:g}" if millions == int(millions) else f"{millions:.1f}") + "M"
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u202f")
    locale = _locale()
    if locale is None:
        return f"{value:.3g}"
    return format_decimal(Decimal(f"{value:.3g}"), locale=locale)


def value_text(raw: Decimal | int, currency: str | None) -> str:
    """A value as its tooltip says it: money in the currency, else a number in the page's
    digits (``str`` when drawn outside a request)."""
    if _locale() is None:
        return str(raw)
    from portal.web.formatting import decimal_text, money

    if currency:
        return money(Decimal(raw), currency)
    if isinstance(raw, int):
        return format_decimal(raw, locale=_locale())
    return decimal_text(Decimal(raw))


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11"{extra}>'
        f"{escape(text)}</text>"
    )


def _legend(chart: Chart, width: int) -> list[tuple[float, int, str, str]]:
    """``(x, row, name, colour)`` of each legend entry, wrapped to the chart's width."""
    entries, x, row = [], float(MARGIN_LEFT), 0
    for number, (name, _values) in enumerate(chart.series):
        span = 14 + CHAR_WIDTH * len(str(name)) + 18
        if x + span > width - MARGIN_RIGHT and x > MARGIN_LEFT:
            x, row = float(MARGIN_LEFT), row + 1
        entries.append((x, row, str(name), COLOURS[number % len(COLOURS)]))
        x += span
    return entries


def _extent(chart: Chart) -> tuple[float, float]:
    if chart.kind == "stacked":
        ups = [
            sum(max(float(s[i]), 0.0) for _n, s in chart.series) for i in range(len(chart.labels))
        ]
        downs = [
            sum(min(float(s[i]), 0.0) for _n, s in chart.series) for i in range(len(chart.labels))
        ]
        return min([0.0, *downs]), max([0.0, *ups])
    values = [float(v) for _name, series in chart.series for v in series]
    return min([0.0, *values]), max([0.0, *values])


def render_svg(chart: Chart, width: int, height: int) -> Markup:
    """Draw ``chart`` as an accessible inline SVG (``role="img"`` with the title)."""
    legend = _legend(chart, width) if len(chart.series) > 1 or chart.kind != "line" else []
    legend = legend if chart.series else []
    legend_rows = (max(row for _x, row, _n, _c in legend) + 1) if legend else 0
    top_margin = MARGIN_TOP if chart.title else 12
    bottom_margin = AXIS_LABELS + LEGEND_ROW * legend_rows + 6
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = max(height - top_margin - bottom_margin, 20)
    low, high = _extent(chart)
    bottom, top, step = axis_range(low, high)
    count = max(len(chart.labels), 1)
    slot = plot_w / count

    def y_of(value: float) -> float:
        return top_margin + plot_h * (top - value) / (top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    if chart.title:
        parts.append(_text(MARGIN_LEFT, 16, chart.title, "start", ' font-weight="bold"'))
    # value axis: grid lines with their values, the zero line darker
    ticks = round((top - bottom) / step)
    for index in range(ticks + 1):
        value = bottom + step * index
        y = y_of(value)
        colour = "#6c757d" if abs(value) < step / 1000 else "#dee2e6"
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}"/>'
        )
        parts.append(_text(MARGIN_LEFT - 6, y + 4, _number(value), "end"))
    axis_bottom = top_margin + plot_h
    parts.append(
        f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{top_margin}" y2="{axis_bottom:.1f}" '
        f'stroke="#6c757d"/>'
    )
    # category axis: every n-th label when they would overlap
    widest = max((len(str(label)) for label in chart.labels), default=1)
    every = max(1, math.ceil((widest * CHAR_WIDTH + 8) / slot))
    for index, label in enumerate(chart.labels):
        if index % every == 0:
            x = MARGIN_LEFT + slot * (index + 0.5)
            parts.append(_text(x, axis_bottom + 15, str(label)))
    parts.extend(_series(chart, slot, y_of))
    for x, row, name, colour in legend:
        y = axis_bottom + AXIS_LABELS + LEGEND_ROW * row
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, y + 9, name, "start"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _tip(chart: Chart, name: str, index: int, raw: Decimal | int) -> str:
    label, value = str(chart.labels[index]), value_text(raw, chart.currency)
    return f"<title>{escape(name)}: {escape(label)} — {escape(value)}</title>"


def _series(chart: Chart, slot: float, y: Callable[[float], float]) -> list[str]:
    """The bars or lines of every series (``y``: a value's pixel row)."""
    parts: list[str] = []
    if chart.kind == "stacked":
        bar_w = slot * 0.6
        ups = [0.0] * len(chart.labels)
        downs = [0.0] * len(chart.labels)
        for number, (name, series) in enumerate(chart.series):
            colour = COLOURS[number % len(COLOURS)]
            for index, raw in enumerate(series):
                value = float(raw)
                if value == 0:
                    continue
                base = ups if value > 0 else downs
                start, end = base[index], base[index] + value
                base[index] = end
                y1, y2 = y(max(start, end)), y(min(start, end))
                x = MARGIN_LEFT + slot * index + slot * 0.2
                parts.append(
                    f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar_w:.1f}" '
                    f'height="{max(y2 - y1, 0.5):.1f}" fill="{colour}">'
                    f"{_tip(chart, name, index, raw)}</rect>"
                )
        return parts
    bar_w = slot * 0.8 / max(len(chart.series), 1)
    for number, (name, series) in enumerate(chart.series):
        colour = COLOURS[number % len(COLOURS)]
        points = []
        for index, raw in enumerate(series):
            value = float(raw)
            if chart.kind == "bar":
                x = MARGIN_LEFT + slot * index + slot * 0.1 + bar_w * number
                y1, y2 = y(max(value, 0.0)), y(min(value, 0.0))
                parts.append(
                    f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar_w:.1f}" '
                    f'height="{y2 - y1:.1f}" fill="{colour}">'
                    f"{_tip(chart, name, index, raw)}</rect>"
                )
            else:
                px, py = MARGIN_LEFT + slot * (index + 0.5), y(value)
                points.append(f"{px:.1f},{py:.1f}")
                parts.append(
                    f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                    f"{_tip(chart, name, index, raw)}</circle>"
                )
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{" ".join(points)}"/>'
            )
    return parts
