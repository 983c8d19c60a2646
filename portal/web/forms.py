"""Form pieces every area's forms use: enum choices, an optional id, a list of checkboxes, and
the bounded fields that read numbers and money (docs/security.md, "Input bounds")."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, SelectMultipleField
from wtforms.validators import Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from portal.billing.amounts import INTEGER_DIGITS, PLACES, parse_amount
from portal.web.query_args import MAX_ID, db_id

#: The longest text a form takes (a ticket body, a note, a description): a letter of some
#: twenty pages; a longer one goes as an attachment.
MAX_TEXT = 50_000
#: The range of a database INTEGER column.
MIN_INTEGER, MAX_INTEGER = -(2**31), MAX_ID


class _KeepsItsMessage:
    """A value the field could not read ends validation with the field's message: DataRequired
    would otherwise replace it with "This field is required" although something was typed."""

    process_errors: list[Any]

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


class MoneyField(_KeepsItsMessage, DecimalField):
    """An amount (money, a quantity, a rate) in plain decimal notation, ``.`` or ``,``.

    Every value it cannot read is refused with the field's ``message``, in the reader's
    language; ``places`` bounds the decimals, ``integer_digits`` the digits before them,
    ``signed`` allows a minus. It is a text box with a decimal keypad, not ``type="number"``:
    a browser's number box refuses or drops "1500,50" as a Russian office types it.
    """

    widget = TextInput()

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        places: int = PLACES,
        integer_digits: int = INTEGER_DIGITS,
        signed: bool = False,
        message: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs["render_kw"] = {"inputmode": "decimal", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, places=None, **kwargs)
        self.max_places = places
        self.integer_digits = integer_digits
        self.signed = signed
        self.message = message or _l(
            "Enter a number such as 1500 or 1500,50 (at most %(places)d decimal places).",
            places=places,
        )

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = parse_amount(
                str(valuelist[0]),
                integer_digits=self.integer_digits,
                places=self.max_places,
                signed=self.signed,
            )
        except ValueError as error:
            self.data = None
            raise ValueError(self.message) from error


class BoundedIntegerField(_KeepsItsMessage, IntegerField):
    """A whole number of ASCII digits that fits a database INTEGER column (``int()`` also takes
    "１００" and "1_000", and a longer number overflows the column)."""

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        minimum: int = MIN_INTEGER,
        maximum: int = MAX_INTEGER,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).strip()
        digits = text.removeprefix("-")
        number = int(text) if digits and digits.isascii() and digits.isdigit() else None
        if number is None or len(digits) > 10 or not self.minimum <= number <= self.maximum:
            self.data = None
            raise ValueError(
                _l(
                    "Enter a whole number from %(minimum)d to %(maximum)d.",
                    minimum=self.minimum,
                    maximum=self.maximum,
                )
            )
        self.data = number


def text_length(maximum: int = MAX_TEXT) -> Length:
    """The validator every free-text field carries, with a message that says what to do."""
    return Length(
        max=maximum,
        message=_l(
            "At most %(max)d characters (this text has %(length)d): shorten it or attach it as a "
            "file."
        ),
    )


def enum_choices(labels: Mapping[enum.Enum, Any]) -> list[tuple[Any, Any]]:
    """``(member.value, label)`` pairs for a select field, in the order of the labels."""
    return [(member.value, label) for member, label in labels.items()]


def optional_id(value: object) -> int | None:
    """``coerce`` of a select whose empty choice means "none" (``None`` is posted as "None")."""
    if value is None or value in ("", "None"):
        return None
    if isinstance(value, int):
        return value
    number = db_id(value)
    if number is None:
        raise ValueError(value)
    return number


def strict_id(value: object) -> int:
    """``coerce`` of a select of rows: a posted "²" or "99999999999" is not a choice."""
    if isinstance(value, int):
        return value
    number = db_id(value)
    if number is None:
        raise ValueError(value)
    return number


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes, which staff find easier than a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
