"""Number categories by digit pattern ("beautiful numbers", красивые номера).

The rules read the **last 7 digits** of a number (the subscriber part of a Moscow number
``7 495 123-45-67``; shorter numbers are read whole) and the first rule that matches, dearest
first, gives the category (README.md, "Number categories"):

=========  ==========================================================================
platinum   five or more equal digits in a row (``777-77-77``, ``1-22222-3``)
gold       the last six digits are three pairs of equal digits (``1-22-33-44``,
           ``5-00-00-77``)
silver     four equal digits in a row (``123-7777``), or the last four digits are a
           repeated pair (``..-12-12``) or two pairs (``..-11-22``)
bronze     the last three digits are equal (``..-4-555``), or the last four are a
           straight run up or down (``..-1234``, ``..-9876``)
ordinary   everything else
=========  ==========================================================================
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from flask_babel import lazy_gettext as _l

ORDINARY, BRONZE, SILVER, GOLD, PLATINUM = "ordinary", "bronze", "silver", "gold", "platinum"
#: Cheapest first (the ``rank`` of the category rows).
CODES = (ORDINARY, BRONZE, SILVER, GOLD, PLATINUM)

LABELS = {
    ORDINARY: _l("Ordinary"),
    BRONZE: _l("Bronze"),
    SILVER: _l("Silver"),
    GOLD: _l("Gold"),
    PLATINUM: _l("Platinum"),
}

SUBSCRIBER_DIGITS = 7


def _run(digits: str, length: int) -> bool:
    return re.search(rf"(\d)\1{{{length - 1}}}", digits) is not None


def _pairs(digits: str, count: int) -> bool:
    tail = digits[-2 * count :]
    return len(tail) == 2 * count and all(tail[i] == tail[i + 1] for i in range(0, len(tail), 2))


def _straight(tail: str) -> bool:
    steps = {int(b) - int(a) for a, b in itertools.pairwise(tail)}
    return len(tail) == 4 and steps in ({1}, {-1})


def is_platinum(digits: str) -> bool:
    return _run(digits, 5)


def is_gold(digits: str) -> bool:
    return _pairs(digits, 3)


def is_silver(digits: str) -> bool:
    tail = digits[-4:]
    repeated = len(tail) == 4 and tail[:2] == tail[2:]
    return _run(digits, 4) or repeated or _pairs(digits, 2)


def is_bronze(digits: str) -> bool:
    return _run(digits[-3:], 3) or _straight(digits[-4:])


RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (PLATINUM, is_platinum),
    (GOLD, is_gold),
    (SILVER, is_silver),
    (BRONZE, is_bronze),
)


def category_of(number: str) -> str:
    """The category of ``number`` (digits only) by its subscriber part."""
    digits = number[-SUBSCRIBER_DIGITS:]
    return next((code for code, rule in RULES if rule(digits)), ORDINARY)


def label(code: str) -> str:
    return str(LABELS.get(code, code))
