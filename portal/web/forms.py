"""Form pieces every area's forms use: enum choices, an optional id, a list of checkboxes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


def enum_choices(labels: Mapping[enum.Enum, Any]) -> list[tuple[Any, Any]]:
    """``(member.value, label)`` pairs for a select field, in the order of the labels."""
    return [(member.value, label) for member, label in labels.items()]


def optional_id(value: object) -> int | None:
    """``coerce`` of a select whose empty choice means "none" (``None`` is posted as "None")."""
    return int(value) if value not in (None, "", "None") else None  # type: ignore[call-overload]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes, which staff find easier than a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
