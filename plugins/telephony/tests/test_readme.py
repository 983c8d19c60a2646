"""README.md's worked examples of the rating rules are executable and must show what they
say (as docs/billing.md's are for the core)."""

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_rating_examples_run() -> None:
    result = doctest.testfile(
        str(README),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
    )
    assert result.failed == 0
    assert result.attempted >= 25


def test_the_acceptance_figures_are_in_the_examples() -> None:
    text = README.read_text(encoding="utf-8")
    for figure in ("(120, 61, 61, 90)", "Decimal('111.10')", "ROUND_HALF_UP", "Decimal('0.00')"):
        assert figure in text
