"""docs/documents.md is executable: its examples must print what the page shows."""

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "documents.md"


def test_examples_in_the_documentation_run():
    result = doctest.testfile(
        str(DOC),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
    )
    assert result.failed == 0
    assert result.attempted >= 20
