"""Reading ids typed into search boxes and filters without upsetting the database."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; a longer number (an INN, a phone) is not an id


def db_id(value: object) -> int | None:
    """``"42"`` -> 42; anything that cannot be a row id (``"7707083893"``, ``"x"``) -> None."""
    text = str(value or "").strip()
    if not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every URL: ids beyond PostgreSQL's INTEGER are a 404, not a 500."""

    def __init__(self, url_map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)  # type: ignore[arg-type]
