"""The one error of the documents package."""

from __future__ import annotations


class DocumentError(ValueError):
    """A document that cannot be printed as given: totals that do not add up, an amount that
    would need rounding, an unknown language or currency, a font that could not be embedded.

    A ``ValueError`` like the billing errors: bad input, never printed wrong.
    """
