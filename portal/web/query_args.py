"""Reading numbers typed into search boxes, filters and URLs without upsetting the database.

Only ASCII digits make a number here: ``str.isdigit()`` and ``int()`` also take ``"²"`` and
``"１００"``, and a number past the database's INTEGER is an error there, not "nothing found"
(docs/security.md, "Input bounds").
"""

from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; a longer number (an INN, a phone) is not an id


def strict_int(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``" 42 "`` -> 42; anything but ASCII digits in ``minimum..maximum`` -> None."""
    text = str(value if value is not None else "").strip()
    if not text or len(text) > len(str(maximum)) or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def db_id(value: object) -> int | None:
    """``"42"`` -> 42; anything that cannot be a row id (``"7707083893"``, ``"x"``) -> None."""
    return strict_int(value, minimum=1)


def int_arg(name: str, default: int, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """A whole-number query argument (``page``, ``months``); a bad or missing one is ``default``."""
    number = strict_int(request.args.get(name), minimum=minimum, maximum=maximum)
    return default if number is None else number


#: Past the last page of any list; a larger page number would overflow the query's OFFSET.
MAX_PAGE = 1_000_000


def page_arg() -> int:
    """The ``page`` of a list (``db.paginate(..., page=page_arg())``: Flask-SQLAlchemy reads it
    with ``int()`` and no upper bound)."""
    return int_arg("page", 1, maximum=MAX_PAGE)


def id_arg(name: str, *, form: bool = False) -> int | None:
    """A row id from the query string (or the posted form): None when absent or not an id."""
    return db_id((request.form if form else request.args).get(name))


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every URL: ids beyond PostgreSQL's INTEGER are a 404, not a 500."""

    def __init__(self, url_map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)  # type: ignore[arg-type]
