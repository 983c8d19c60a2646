"""Reading an amount typed by a person: plain decimal notation only, within a money column.

``Decimal()`` alone takes "1e309", "NaN", "1_000" and "１００", which then overflow a column or
the arithmetic; docs/security.md, "Input bounds".
"""

from __future__ import annotations

import re
from decimal import Decimal

#: ASCII digits, thousands optionally set apart by (no-break) spaces, one decimal separator,
#: "." or ",". No exponent, no "_", no lookalike digits.
_AMOUNT = re.compile(
    r"(?P<sign>[+-]?)(?P<whole>\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](?P<fraction>\d+))?",
    re.ASCII,
)
#: Digits a money column (NUMERIC(18, 4)) holds before the point and after it.
INTEGER_DIGITS = 14
PLACES = 4


def parse_amount(
    text: str, *, integer_digits: int = INTEGER_DIGITS, places: int = PLACES, signed: bool = False
) -> Decimal:
    """``"1 220,50"`` -> ``Decimal("1220.50")``; ValueError for anything else, a minus unless
    ``signed``, more than ``integer_digits`` before the separator or ``places`` after it."""
    match = _AMOUNT.fullmatch(text.strip())
    if match is None or (match["sign"] == "-" and not signed):
        raise ValueError(text)
    whole = re.sub(r"\D", "", match["whole"], flags=re.ASCII)
    fraction = match["fraction"] or ""
    if len(whole.lstrip("0")) > integer_digits or len(fraction) > places:
        raise ValueError(text)
    return Decimal(f"{match['sign']}{whole}.{fraction}" if fraction else f"{match['sign']}{whole}")
