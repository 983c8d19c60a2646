"""Counting the SQL statements a request sends: what a list page costs (docs/performance.md).

A list page must cost the same number of queries with a few rows as with thousands, and its
last page what its first does; the core's tests and a plugin's count their pages with these."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from portal.core.extensions import db


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements sent to the database inside the ``with`` block, in order."""
    statements: list[str] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def queries_per_page(web: Any, urls: list[str]) -> dict[str, int]:
    """The queries of each page at its second visit (each must answer 200): a first visit may
    write once what a signed-in person's first clicks write ("last seen"), no cost of the list."""
    counts = {}
    for url in urls:
        assert web.get(url).status_code == 200, url
        with counted() as statements:
            response = web.get(url)
            assert response.status_code == 200, url
        counts[url] = len(statements)
    return counts
