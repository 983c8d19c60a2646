"""Reports core and plugins add to the admin Reports menu (``register_reports``).

A report has a ``name`` (its URL, ``/admin/reports/<name>``), a ``label``, optional ``filters``
(a WTForms form class, filled from the query string; :class:`ReportFilters` gives the common
ones) and ``run(filters) -> ReportResult``: typed :class:`Column` s, rows of raw values
(``Decimal``, ``int``, ``date``, :class:`Link` — never pre-formatted text), an optional totals
row and, where a picture helps, :class:`Chart` s. The portal formats every cell by its column's
kind (money through the Babel filters, in the currency), draws the charts as inline SVG on the
server, and exports the same rows as CSV and XLSX with numbers as numbers and dates as dates.
Core reports and plugin reports go through the same code, so they look and behave the same.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from portal.platform.report_charts import COLOURS, nice_ceiling, render_svg

__all__ = [
    "COLOURS",
    "Chart",
    "Column",
    "ColumnKind",
    "Link",
    "Report",
    "ReportResult",
    "client_link",
    "nice_ceiling",
]


class ColumnKind(enum.StrEnum):
    """How a column's cells are shown and exported."""

    TEXT = "text"
    #: ``Decimal`` amounts in the column's (or the result's, or the row's) currency.
    MONEY = "money"
    #: ``int`` or ``Decimal`` counts and quantities.
    NUMBER = "number"
    #: Percentages as numbers of per cent: ``Decimal("12.5")`` is 12.5 %.
    PERCENT = "percent"
    DATE = "date"
    #: A ``date`` standing for its month (the first day by convention): "March 2026".
    MONTH = "month"
    #: :class:`Link` cells (or ``(text, url)`` pairs): a client's card, an invoice.
    LINK = "link"


NUMERIC_KINDS = frozenset({ColumnKind.MONEY, ColumnKind.NUMBER, ColumnKind.PERCENT})


@dataclass(frozen=True)
class Column:
    """A heading and how its cells are shown. ``currency`` fixes the currency of a money column;
    ``currency_column`` names the index of the column that holds each row's currency code;
    without either, the result's ``currency`` applies."""

    label: str
    kind: ColumnKind | str = ColumnKind.TEXT
    currency: str | None = None
    currency_column: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ColumnKind(self.kind))

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass(frozen=True)
class Link:
    """A cell that opens a page: the text is what CSV and XLSX carry."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Chart:
    """A chart: one value per label in each series (``(name, values)``).

    ``bar`` draws the series side by side, ``stacked`` on top of each other (negative values
    below the zero line: MRR movements with churn), ``line`` as lines. With a ``currency``
    the tooltips show the values as money in it."""

    kind: str  # "bar", "stacked" or "line"
    labels: Sequence[str]
    series: Sequence[tuple[str, Sequence[Decimal | int]]]
    title: str = ""
    currency: str | None = None

    KINDS = ("bar", "stacked", "line")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"chart kind must be one of {self.KINDS}, not {self.kind!r}")
        for name, values in self.series:
            if len(values) != len(self.labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.labels)}")

    def svg(self, width: int = 720, height: int = 300) -> Markup:
        return render_svg(self, width, height)


def _as_column(column: Column | str) -> Column:
    return column if isinstance(column, Column) else Column(str(column))


@dataclass(frozen=True)
class ReportResult:
    """What a report shows: ``columns`` (:class:`Column` s, or plain headings meaning text),
    ``rows`` (raw values), an optional ``totals`` row (``None`` in cells without a total), the
    ``currency`` of money columns that name none, and charts (``chart`` first, then
    ``charts``)."""

    columns: Sequence[Column | str]
    rows: Sequence[Sequence[Any]]
    chart: Chart | None = None
    totals: Sequence[Any] | None = None
    currency: str | None = None
    charts: Sequence[Chart] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(_as_column(c) for c in self.columns))
        width = len(self.columns)
        if self.totals is not None and len(self.totals) != width:
            raise ValueError(f"totals has {len(self.totals)} cells for {width} columns")

    @property
    def headings(self) -> list[str]:
        return [str(column.label) for column in self.columns]  # type: ignore[union-attr]

    @property
    def all_charts(self) -> list[Chart]:
        return [c for c in (self.chart, *self.charts) if c is not None]

    def currency_of(self, column: Column, row: Sequence[Any]) -> str | None:
        """The currency a money cell of ``row`` is in."""
        if column.currency_column is not None:
            return str(row[column.currency_column] or "") or self.currency
        return column.currency or self.currency

    def display(self, index: int, row: Sequence[Any]) -> Markup:
        """Cell ``index`` of ``row`` as HTML for the current locale."""
        column: Column = self.columns[index]  # type: ignore[assignment]
        return cell_html(column, row[index], self.currency_of(column, row))


def client_link(client_id: int, name: str) -> Link:
    """A link cell to the client's card in the admin area (call it inside ``run``)."""
    from flask import url_for

    return Link(name, url_for("admin_clients.summary", client_id=client_id))


def link_of(value: Any) -> Link | None:
    """A :class:`Link` for a link cell given as a Link or a ``(text, url)`` pair."""
    if isinstance(value, Link):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Link(str(value[0]), str(value[1]))
    return None


def cell_html(column: Column, value: Any, currency: str | None) -> Markup:
    """One cell for the page: a link, or the escaped :func:`cell_text`."""
    link = link_of(value)
    if link is not None:
        return Markup('<a href="{}">{}</a>').format(link.url, link.text)
    return escape(cell_text(column, value, currency))


def cell_text(column: Column, value: Any, currency: str | None) -> str:
    """One cell as text for the current locale: money and dates through the portal's Babel
    filters."""
    from flask_babel import format_decimal, format_percent

    from portal.web.formatting import decimal_text, money, short_date

    if value is None or value == "":
        return ""
    kind = column.kind
    link = link_of(value)
    if link is not None:
        return link.text
    if kind == ColumnKind.MONEY and isinstance(value, Decimal | int):
        amount = Decimal(value)
        return money(amount, currency) if currency else decimal_text(amount)
    if kind == ColumnKind.NUMBER and isinstance(value, Decimal | int):
        return format_decimal(value) if isinstance(value, int) else decimal_text(value)
    if kind == ColumnKind.PERCENT and isinstance(value, Decimal | int):
        return format_percent(Decimal(value) / 100, "#,##0.##%")
    if kind == ColumnKind.MONTH and isinstance(value, date):
        return month_label(value)
    if isinstance(value, date):
        return short_date(value)
    return str(value)


def month_label(day: date) -> str:
    """ "March 2026" in the current locale ("март 2026" in Russian): a month column's text and
    a chart's axis label."""
    from flask_babel import format_date

    return format_date(day, "LLLL yyyy")


def short_month_label(day: date) -> str:
    """ "Mar 26" ("мар. 26"): a chart label that fits twelve to a small chart."""
    from flask_babel import format_date

    return format_date(day, "LLL yy")


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
