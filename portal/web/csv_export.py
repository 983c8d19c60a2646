"""CSV downloads that Excel opens correctly in a Russian locale: UTF-8 with BOM, ``;``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flask import Response

from portal.web.downloads import download


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _decimal(value)
    text = str(value)
    # Cells starting with these are executed as formulas by spreadsheet programs.
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text
    return text


CENTS = Decimal("0.01")


def _decimal(value: Decimal) -> str:
    """Kopecks as on every page, more places only when they are not zeros (a rate 0.1111):
    stored amounts carry four places, and "500,0000" in a money column reads as an error.
    Nothing is rounded. A comma, as Excel in a Russian locale reads numbers."""
    shown = value.quantize(CENTS) if value == value.quantize(CENTS) else value.normalize()
    return format(shown, "f").replace(".", ",")


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", "."))
    except ArithmeticError:
        return False
    return True


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return download(buffer.getvalue().encode("utf-8"), filename, "text/csv")
