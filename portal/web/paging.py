"""Paging every list of both areas: keyset (seek) pages and capped counts (docs/performance.md).

A list is a ``select(...)`` without ORDER BY plus its ordering: one sort column and the row's id
as a tiebreak, both in the same direction. :func:`keyset_page` reads the position from the query
string and runs two queries whatever the list's length or the page's depth:

* the page itself, ``WHERE (sort, id) < (<sort of the cursor row>, cursor) ORDER BY sort, id
  LIMIT per_page + 1`` (``>`` and the reverse order going back), which an index on
  ``(sort, id)`` (or ``(client_id, sort, id)`` for a client's own list) answers by reading
  ``per_page + 1`` entries, on page 1 as on page 4 000, where ``OFFSET`` reads every row before;
* a capped count, ``SELECT count(*) FROM (SELECT id ... LIMIT cap + 1)``: past ``COUNT_CAP``
  rows the exact figure costs a scan of them all and tells staff nothing the words "over 10 000"
  do not.

The cursor is only a row id (``?after=123``, ``?before=123``): the sort value is looked up in
the same query by primary key, so a cursor carries no value to decode or forge. A cursor that is
no id, or names a row that is gone, answers the first page, never an error. ``?last=1`` is the
last page (the order reversed, no OFFSET); ``?page=N`` only numbers the page for people ("page 3
of 12") and changes no row shown.

:func:`offset_page` is the same page object for the few short lists whose order is not one
column (reports, a plugin's computed order): numbered pages with ``OFFSET``, the same capped count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from sqlalchemy import Date, Select, func, inspect, literal_column, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from portal.core.extensions import db
from portal.web.query_args import MAX_PAGE, db_id, strict_int

#: Rows counted at most: past it a list says "over 10 000" (docs/performance.md).
COUNT_CAP = 10_000
#: Rows per page unless a list asks otherwise.
PER_PAGE = 50
#: What a NULL date or time sorts as in a list that puts "no date" last: a keyset needs a NOT NULL
#: key, and the index on the same expression (migration 0039) reads the list in its order. A
#: literal with its zone, never a bound value: PostgreSQL matches an index expression only to the
#: same constant, and reads a zoneless one in the session's zone.
FAR_DATE = "'9999-12-31'"
FAR_TIME = "'9999-12-31 00:00:00+00'"
#: The query-string arguments paging owns; page links replace them and keep every other one.
PAGING_ARGS = ("after", "before", "last", "page")


@dataclass
class Page:
    """One page of a list, for the ``pagination`` macro (macros/shell.html) and the view.

    ``total`` is exact unless ``capped`` (then it is ``COUNT_CAP`` and the list is longer);
    ``number`` is the page's place for people, None when unknown (the last page of a capped
    list); ``pages`` is the number of pages the counted rows fill."""

    items: list[Any]
    per_page: int
    total: int
    capped: bool
    number: int | None
    has_prev: bool
    has_next: bool
    #: query-string arguments of the four links (None: no such link)
    prev_args: dict[str, Any] | None = None
    next_args: dict[str, Any] | None = None
    first_args: dict[str, Any] = field(default_factory=dict)
    last_args: dict[str, Any] | None = field(default_factory=lambda: {"last": "1"})
    #: before the paging arguments' names when one page shows two lists ("notes_after")
    prefix: str = ""

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def page(self) -> int | None:
        """``number`` under the name Flask-SQLAlchemy's pages used."""
        return self.number

    @property
    def single(self) -> bool:
        """Everything fits on this one page: no links to show."""
        return not (self.has_prev or self.has_next)

    def url(self, endpoint: str, which: str, /, **values: Any) -> str | None:
        """The link to the ``first``, ``prev``, ``next`` or ``last`` page of ``endpoint`` with
        the list's other arguments (``values``, filters and sorts) kept and old paging dropped."""
        extra = {
            "first": self.first_args if self.has_prev else None,
            "prev": self.prev_args,
            "next": self.next_args,
            "last": self.last_args if self.has_next else None,
        }[which]
        if extra is None:
            return None
        own = {self.prefix + name for name in PAGING_ARGS}
        kept = {key: value for key, value in values.items() if key not in own}
        kept.update({self.prefix + key: value for key, value in extra.items()})
        return url_for(endpoint, **kept)


def nulls_last(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` with NULL read as the far future: a NOT NULL sort key for :func:`keyset_page`
    that orders as ``column ASC NULLS LAST`` (the services by next due date, the tickets
    awaiting a reply by response due)."""
    far = FAR_DATE if isinstance(column.type, Date) else FAR_TIME
    return func.coalesce(column, literal_column(far))


def capped_count(
    statement: Select[Any], id_column: ColumnElement[Any], cap: int = COUNT_CAP
) -> int:
    """Matching rows, counted up to ``cap + 1`` (``> cap`` means "over ``cap``"): the count
    stops reading once it knows the list is long."""
    inner = (
        statement.order_by(None)
        .with_only_columns(id_column, maintain_column_froms=True)
        .limit(cap + 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(inner)) or 0


def _number_arg(args: Mapping[str, str], prefix: str = "") -> int | None:
    return strict_int(args.get(prefix + "page"), minimum=1, maximum=MAX_PAGE)


def _scalars(statement: Select[Any]) -> list[Any]:
    """The page's rows: ORM objects for ``select(Model)``, Rows for several columns."""
    if len(statement.column_descriptions) > 1:
        return list(db.session.execute(statement).all())
    return list(db.session.scalars(statement).unique())


def keyset_page(
    statement: Select[Any],
    *,
    sort: ColumnElement[Any] | Sequence[ColumnElement[Any]] | None = None,
    id_column: ColumnElement[Any],
    descending: bool = True,
    per_page: int = PER_PAGE,
    cap: int = COUNT_CAP,
    args: Mapping[str, str] | None = None,
    prefix: str = "",
) -> Page:
    """The page of ``statement`` (no ORDER BY needed; any is replaced) that the query string
    asks for, ordered by ``sort`` then ``id_column``, both ``descending`` or both not.

    ``sort`` must be a NOT NULL column or expression (a NULL never compares; :func:`nulls_last`
    makes one of a nullable date) of the tables the statement reads, one row of them per id
    (the cursor row's value is looked up by its id through the statement's joins), or several
    of them (a client's notes: important first, then newest); None sorts by the id alone.
    ``args`` defaults to ``request.args``; ``prefix`` names this list's arguments apart from
    another list's on the same page. Two queries: the page and the capped count."""
    args = request.args if args is None else args
    if sort is None or sort is id_column:
        sorts: tuple[ColumnElement[Any], ...] = ()
    elif isinstance(sort, (tuple, list)):
        sorts = tuple(sort)
    else:
        sorts = (sort,)
    keys = (*sorts, id_column)
    after, before = db_id(args.get(prefix + "after")), db_id(args.get(prefix + "before"))
    last = args.get(prefix + "last") == "1" and after is None and before is None
    number = _number_arg(args, prefix)

    def ordered(forward: bool) -> Select[Any]:
        down = descending if forward else not descending
        return statement.order_by(None).order_by(
            *(key.desc() if down else key.asc() for key in keys)
        )

    def seek(cursor: int, forward: bool) -> Select[Any]:
        down = descending if forward else not descending
        if len(keys) == 1:
            return id_column < cursor if down else id_column > cursor
        # the cursor row's keys, from the list's own FROM (a key may be a joined table's)
        froms = statement.get_final_froms()
        refs = [
            select(key)
            .select_from(*froms)
            .where(id_column == cursor)
            .correlate(None)
            .scalar_subquery()
            for key in sorts
        ]
        row, at = tuple_(*keys), tuple_(*refs, cursor)
        return row < at if down else row > at

    total = capped_count(statement, id_column, cap)
    capped = total > cap
    shown_total = min(total, cap)
    pages = max(1, math.ceil(shown_total / per_page))
    rows: list[Any] = []
    if after is not None:
        rows = _scalars(ordered(True).where(seek(after, True)).limit(per_page + 1))
        has_prev, has_next = True, len(rows) > per_page
        rows = rows[:per_page]
        number = max(2, number) if number else None  # unknown without ?page=
    elif before is not None or last:
        query = ordered(False)
        if before is not None:
            query = query.where(seek(before, False))
        rows = _scalars(query.limit(per_page + 1))
        has_prev, has_next = len(rows) > per_page, not last
        rows = list(reversed(rows[:per_page]))
        if last:
            number = None if capped else pages
        elif not has_prev:
            number = 1
    if not rows:  # the first page, or a cursor that leads nowhere (gone, forged): start over
        rows = _scalars(ordered(True).limit(per_page + 1))
        has_prev, has_next, number = False, len(rows) > per_page, 1
        rows = rows[:per_page]
    if number is not None and not capped:
        number = min(number, pages)
    page = Page(
        items=rows,
        per_page=per_page,
        total=shown_total,
        capped=capped,
        number=number,
        has_prev=has_prev,
        has_next=has_next,
        prefix=prefix,
    )
    if rows and has_next:
        page.next_args = {"after": _id_of(rows[-1], id_column)}
        if number is not None:
            page.next_args["page"] = number + 1
    if rows and has_prev:
        page.prev_args = {"before": _id_of(rows[0], id_column)}
        if number is not None and number > 2:
            page.prev_args["page"] = number - 1
    return page


def _id_of(row: Any, id_column: ColumnElement[Any]) -> int:
    """The id of a page's row: an ORM object's attribute or a Row's column."""
    name = id_column.key  # type: ignore[attr-defined]
    if hasattr(row, "_mapping"):
        return row._mapping[id_column]  # type: ignore[no-any-return]
    return getattr(row, name)  # type: ignore[no-any-return]


def primary_key(statement: Select[Any]) -> ColumnElement[Any]:
    """The id column of the model a ``select(Model)`` lists (what counts its rows)."""
    entity = statement.column_descriptions[0]["entity"]
    if entity is None:
        raise ValueError("name the id column of a select() of columns")
    return inspect(entity).primary_key[0]  # type: ignore[no-any-return]


def offset_page(
    statement: Select[Any],
    *,
    id_column: ColumnElement[Any] | None = None,
    per_page: int = PER_PAGE,
    cap: int = COUNT_CAP,
    args: Mapping[str, str] | None = None,
) -> Page:
    """Numbered pages of an ordered ``statement`` with ``OFFSET`` (``?page=N``), for short
    lists whose order is no single column; the count capped as :func:`keyset_page`'s. A page
    past the end is the last one. ``id_column`` defaults to the listed model's primary key."""
    total = capped_count(statement, primary_key(statement) if id_column is None else id_column, cap)
    return _numbered(
        total,
        lambda offset, limit: _scalars(statement.offset(offset).limit(limit)),
        per_page=per_page,
        cap=cap,
        args=request.args if args is None else args,
    )


def sequence_page(
    items: Sequence[Any], *, per_page: int = PER_PAGE, args: Mapping[str, str] | None = None
) -> Page:
    """Numbered pages of a list already computed in Python (a plugin's list whose rows are
    chosen by rules SQL does not hold): what is rendered is one page, never all of it."""
    return _numbered(
        len(items),
        lambda offset, limit: list(items[offset : offset + limit]),
        per_page=per_page,
        cap=max(COUNT_CAP, len(items)),
        args=request.args if args is None else args,
    )


def _numbered(
    total: int,
    rows_at: Callable[[int, int], list[Any]],
    *,
    per_page: int,
    cap: int,
    args: Mapping[str, str],
) -> Page:
    """Page ``?page=N`` (``?last=1``) of ``total`` rows, ``rows_at(offset, limit)`` reading them."""
    capped = total > cap
    shown_total = min(total, cap)
    pages = max(1, math.ceil(shown_total / per_page))
    number = min(_number_arg(args) or 1, pages if not capped else MAX_PAGE)
    if args.get("last") == "1" and not capped:
        number = pages
    rows = rows_at((number - 1) * per_page, per_page + 1)
    has_next = len(rows) > per_page
    page = Page(
        items=rows[:per_page],
        per_page=per_page,
        total=shown_total,
        capped=capped,
        number=number,
        has_prev=number > 1,
        has_next=has_next,
        last_args=None if capped else {"page": pages},
    )
    if page.has_prev:
        page.prev_args = {"page": number - 1}
    if has_next:
        page.next_args = {"page": number + 1}
    return page
