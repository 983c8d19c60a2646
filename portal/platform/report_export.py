"""A report's rows as CSV and XLSX, with the types of the data rather than of the page.

CSV is for programs: RFC 4180 (``,``, UTF-8 with a BOM so that spreadsheet programs detect the
encoding), numbers plain with a dot (``1234.50``, no grouping), dates ISO (``2026-03-01``, a
month column ``2026-03``), percentages as numbers of per cent (``12.5``), links as their text.

XLSX is for people with Excel: numbers are numbers with a number format (money with two
decimals and grouping), dates are dates, a percentage is the fraction with a percent format
(``0.125`` shown as 12.5 %), the totals row is bold, the header row frozen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.platform.reports import Column, ColumnKind, ReportResult, link_of

#: Cells starting with these are executed as formulas by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

MONEY_FORMAT = "#,##0.00"
NUMBER_FORMAT = "#,##0.####"
INTEGER_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0%"
DATE_FORMATS = {"ru": "dd.mm.yyyy", "en": "yyyy-mm-dd"}
MONTH_FORMATS = {"ru": "mm.yyyy", "en": "yyyy-mm"}


def _safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _plain(value: Decimal) -> str:
    """A Decimal as a program reads it: ``1234.5000`` -> ``1234.50``, ``0.1111`` kept."""
    cents = value.quantize(Decimal("0.01"))
    return format(cents if cents == value else value.normalize(), "f")


def csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    link = link_of(value)
    if link is not None:
        return _safe_text(link.text)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return f"{value:%Y-%m}" if column.kind == ColumnKind.MONTH else value.isoformat()
    return _safe_text(str(value))


def report_csv(result: ReportResult) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns: Sequence[Column] = result.columns  # type: ignore[assignment]
    writer.writerow([_safe_text(h) for h in result.headings])
    for row in result.rows:
        writer.writerow([csv_cell(c, v) for c, v in zip(columns, row, strict=True)])
    if result.totals is not None:
        writer.writerow([csv_cell(c, v) for c, v in zip(columns, result.totals, strict=True)])
    return buffer.getvalue().encode("utf-8")


def _xlsx_value(column: Column, value: Any, language: str) -> tuple[Any, str | None]:
    """The value openpyxl writes and its number format."""
    if value is None:
        return None, None
    link = link_of(value)
    if link is not None:
        return _safe_text(link.text), None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, Decimal | int):
        if column.kind == ColumnKind.PERCENT:
            return Decimal(value) / 100, PERCENT_FORMAT
        if column.kind == ColumnKind.MONEY:
            return value, MONEY_FORMAT
        if column.kind == ColumnKind.NUMBER:
            return value, INTEGER_FORMAT if isinstance(value, int) else NUMBER_FORMAT
        return value, None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), DATE_FORMATS.get(language, DATE_FORMATS["en"]) + " hh:mm"
    if isinstance(value, date):
        formats = MONTH_FORMATS if column.kind == ColumnKind.MONTH else DATE_FORMATS
        return value, formats.get(language, formats["en"])
    return _safe_text(str(value)), None


def report_xlsx(result: ReportResult, title: str, language: str = "en") -> bytes:
    """One sheet named after the report: the header, the rows and the totals in bold."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    # Excel forbids []:*?/\ in a sheet's name and keeps 31 characters.
    sheet = book.create_sheet(("".join(c for c in title if c not in "[]:*?/\\") or "Report")[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(result.columns, start=1):
        # wide enough for the heading, or for an amount or a date in a numeric column
        floor = 14 if column.numeric or column.kind in (ColumnKind.DATE, ColumnKind.MONTH) else 10
        width = min(max(len(str(column.label)) + 2, floor), 48)  # type: ignore[union-attr]
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    columns: Sequence[Column] = result.columns  # type: ignore[assignment]

    def cells(row: Sequence[Any], *, strong: bool = False) -> list[Any]:
        out = []
        for column, value in zip(columns, row, strict=True):
            written, number_format = _xlsx_value(column, value, language)
            cell = WriteOnlyCell(sheet, value=written)
            if number_format:
                cell.number_format = number_format
            if strong:
                cell.font = bold
            out.append(cell)
        return out

    header = []
    for heading in result.headings:
        cell = WriteOnlyCell(sheet, value=_safe_text(heading))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in result.rows:
        sheet.append(cells(row))
    if result.totals is not None:
        sheet.append(cells(result.totals, strong=True))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
