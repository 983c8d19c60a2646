"""docs/billing.md is executable: every worked example in it must produce the figures it shows."""

import doctest
import re
from pathlib import Path

from portal.billing.errors import BillingError

DOC = Path(__file__).resolve().parents[3] / "docs" / "billing.md"


def test_worked_examples_run():
    result = doctest.testfile(
        str(DOC),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
    )
    assert result.failed == 0
    assert result.attempted >= 100


def _errors(cls=BillingError):
    for sub in cls.__subclasses__():
        yield sub
        yield from _errors(sub)


def test_every_error_code_is_documented():
    text = DOC.read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `([a-z_0-9]+)` \| `(\w+)` \|", text, re.MULTILINE))
    assert documented == {error.code: error.__name__ for error in _errors()}


def test_required_examples_are_present():
    text = DOC.read_text(encoding="utf-8")
    for figure in (
        "2019-03-31",  # 31 January anchor
        "Decimal('346.08')",  # add-on on 08.02.2019, actual
        "Decimal('346.00')",  # same, 30/360
        "Decimal('-669.00')",  # 5 % promo on 13 380.00
        "Decimal('3977.90')",  # 5 -> 6 users
        "to_credit_balance",
        "Decimal('48336.00')",  # invoice #71475
    ):
        assert figure in text
