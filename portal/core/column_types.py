"""Column types. ``MoneyType`` stores ``Decimal`` exactly on SQLite and PostgreSQL.

SQLite has no decimal type (``NUMERIC`` affinity turns 0.1 into a float), so there the value is
kept as an integer count of 1/10**scale units; PostgreSQL gets a real ``NUMERIC(precision,
scale)``. Either way ``SUM()`` in SQL stays exact, and a value with more decimals than the column
holds is refused instead of being rounded behind the caller's back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class MoneyType(TypeDecorator[Decimal]):
    """An exact decimal column: amounts (scale 2..4), rates and coefficients (scale 4)."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 4) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float) or not isinstance(value, Decimal | int):
            raise TypeError(f"money columns take Decimal, not {type(value).__name__}")
        value = Decimal(value)
        if value != value.quantize(self._unit):
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        if dialect.name == "sqlite":
            return int(value.scaleb(self.scale))
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._unit)
        return Decimal(value).quantize(self._unit)

    def __repr__(self) -> str:
        return f"MoneyType(precision={self.precision}, scale={self.scale})"
