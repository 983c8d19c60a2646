"""The five number categories by digit pattern (README.md, "Number categories"): each rule on
its own examples and the near misses that fall to the next one down."""

from __future__ import annotations

import pytest
from portal_telephony.categories import category_of


@pytest.mark.parametrize(
    ("number", "category"),
    [
        ("74957777777", "platinum"),  # seven equal digits
        ("74951222223", "platinum"),  # five in a row in the middle
        ("74951233333", "platinum"),
        ("74951223344", "gold"),  # last six: 22 33 44
        ("74955000077", "gold"),  # 00 00 77 (four equal digits, but pairs first)
        ("74951237777", "silver"),  # four equal digits in a row
        ("74951231212", "silver"),  # a repeated pair at the end
        ("74951231122", "silver"),  # two pairs at the end
        ("74951234555", "bronze"),  # last three equal
        ("74951231234", "bronze"),  # a straight up
        ("74959879876", "bronze"),  # a straight down
        ("74951234560", "ordinary"),
        ("74957001005", "ordinary"),
        ("74951222324", "ordinary"),  # 22 23 24: not pairs
    ],
)
def test_category_of(number: str, category: str) -> None:
    assert category_of(number) == category


def test_only_the_subscriber_part_counts() -> None:
    """The area code's digits (7 495 ...) never make a number beautiful."""
    assert category_of("74444123450") == "ordinary"
    assert category_of("77771234560") == "ordinary"
