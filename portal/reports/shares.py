"""``prorated(amount, part, whole)``: ``amount × part / whole`` computed in the database,
rounded half away from zero to the money columns' four decimals, the same on every backend.

The income report splits each payment's allocation to an invoice into VAT and net, and over the
invoice's lines (products), by the invoice's own proportions. On PostgreSQL that is NUMERIC
arithmetic; on SQLite money columns are integers of 1/10 000 (``MoneyType``), where ``/`` is
integer division, so the rounding is spelled out in integers. Both give the same figures, and
the report rounds the sums once, to the currency's minor units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from portal.core.column_types import MoneyType


class prorated(FunctionElement[Decimal]):
    """``amount × part / whole`` (NULL where ``whole`` is 0), as a money value."""

    type = MoneyType()
    inherit_cache = True
    name = "report_prorated"

    def __init__(
        self, amount: ColumnElement[Any], part: ColumnElement[Any], whole: ColumnElement[Any]
    ) -> None:
        super().__init__(amount, part, whole)


def _arguments(element: prorated, compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(prorated)
def _numeric(element: prorated, compiler: SQLCompiler, **kw: Any) -> str:
    amount, part, whole = _arguments(element, compiler, **kw)
    return f"ROUND(({amount}) * ({part}) / NULLIF({whole}, 0), 4)"


@compiles(prorated, "sqlite")
def _sqlite(element: prorated, compiler: SQLCompiler, **kw: Any) -> str:
    # Integers of 1/10 000: n / d is already in those units; half away from zero by hand.
    amount, part, whole = _arguments(element, compiler, **kw)
    n, d = f"(({amount}) * ({part}))", f"({whole})"
    rounded = f"((2 * abs({n}) + abs({d})) / (2 * abs({d})))"
    return (
        f"(CASE WHEN {d} = 0 THEN NULL WHEN ({n} >= 0) = ({d} > 0) THEN {rounded} "
        f"ELSE -{rounded} END)"
    )
