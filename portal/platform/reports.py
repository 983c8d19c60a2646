"""Reports plugins add to the admin Reports menu (``register_reports``).

A report has a ``name`` (its URL, ``/admin/reports/<name>``), a ``label``, optional ``filters``
(a WTForms form class, filled from the query string) and ``run(filters) -> ReportResult``: the
columns, the rows and, where a picture helps, a :class:`Chart`. The portal renders the filter
form, the table, the chart (an inline SVG drawn here on the server: no JavaScript, nothing
downloaded) and offers the rows as CSV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

#: Series colours (Bootstrap's palette), repeated when there are more series.
COLOURS = ("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#6c757d")


@dataclass(frozen=True)
class Chart:
    """A bar or line chart: one value per label in each series (``(name, values)``)."""

    kind: str  # "bar" or "line"
    labels: Sequence[str]
    series: Sequence[tuple[str, Sequence[Decimal | int]]]
    title: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("bar", "line"):
            raise ValueError(f"chart kind must be 'bar' or 'line', not {self.kind!r}")
        for name, values in self.series:
            if len(values) != len(self.labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.labels)}")

    def svg(self, width: int = 720, height: int = 300) -> Markup:
        return render_svg(self, width, height)


@dataclass(frozen=True)
class ReportResult:
    """What a report shows: ``columns`` (headings), ``rows`` (cells: text, numbers, Decimal,
    dates) and an optional chart."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    chart: Chart | None = None


class Report:
    """Base class of a report: set the class attributes, override :meth:`run`."""

    name: str = ""
    label: str = ""
    #: A WTForms form class whose fields filter the report (read from the query string).
    filters: type | None = None
    description: str = ""
    #: The staff permission needed to open it.
    permission: str = "reports.view"
    #: Position in the Reports menu.
    order: int = 100

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        """Compute the report for the filter values (``{}`` without filters)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


# --- SVG ------------------------------------------------------------------------------------------
# Pixel geometry is drawing, not money: floats are fine here.

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 28, 56
GRID_LINES = 4


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


def _number(value: float) -> str:
    """An axis label: whole numbers with thin-space thousands (12 500), else one decimal."""
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:.3g}"


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11"{extra}>'
        f"{escape(text)}</text>"
    )


def render_svg(chart: Chart, width: int, height: int) -> Markup:
    """Draw ``chart`` as an accessible inline SVG (``role="img"`` with the title)."""
    values = [float(v) for _name, series in chart.series for v in series]
    top = nice_ceiling(max([0.0, *values]))
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    count = max(len(chart.labels), 1)
    slot = plot_w / count

    def y_of(value: float) -> float:
        return MARGIN_TOP + plot_h - plot_h * max(value, 0.0) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for step in range(GRID_LINES + 1):
        value = top * step / GRID_LINES
        y = y_of(value)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#dee2e6"/>'
        )
        parts.append(_text(MARGIN_LEFT - 6, y + 4, _number(value), "end"))
    for index, label in enumerate(chart.labels):
        x = MARGIN_LEFT + slot * (index + 0.5)
        parts.append(_text(x, height - MARGIN_BOTTOM + 16, str(label)))
    bar_w = slot * 0.8 / max(len(chart.series), 1)
    for number, (name, series) in enumerate(chart.series):
        colour = COLOURS[number % len(COLOURS)]
        points = []
        for index, raw in enumerate(series):
            value = float(raw)
            if chart.kind == "bar":
                x = MARGIN_LEFT + slot * index + slot * 0.1 + bar_w * number
                parts.append(
                    f'<rect x="{x:.1f}" y="{y_of(value):.1f}" width="{bar_w:.1f}" '
                    f'height="{MARGIN_TOP + plot_h - y_of(value):.1f}" fill="{colour}">'
                    f"<title>{escape(name)}: {escape(str(chart.labels[index]))} — "
                    f"{escape(str(raw))}</title></rect>"
                )
            else:
                points.append(f"{MARGIN_LEFT + slot * (index + 0.5):.1f},{y_of(value):.1f}")
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{" ".join(points)}"/>'
            )
        legend_x = MARGIN_LEFT + 140 * number
        parts.append(
            f'<rect x="{legend_x}" y="{height - 18}" width="10" height="10" fill="{colour}"/>'
        )
        parts.append(_text(legend_x + 14, height - 9, name, "start"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
