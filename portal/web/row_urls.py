"""Links to each row of a list, built once per page instead of once per row.

``url_for`` walks the URL map, runs the URL defaults and quotes every argument: about 20 µs a
call, and a list of 50 rows linked twice a row called it 100 times. ``row_url(endpoint, key)``
builds the endpoint's URL once with a marker in place of ``key`` and answers a function that puts
a row's id there (docs/performance.md, "Per-row work")::

    {% set ticket_url = row_url('admin_support.view', 'ticket_id') %}
    {% for t in page.items %}<a href="{{ ticket_url(t.id) }}">...{% endfor %}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, url_for

#: Stands for the row's id while the URL is built: an int every ``<int:...>`` rule accepts, and
#: too long to be mistaken for anything else in a path.
_MARK = 918_273_645_546_372_819


def row_url(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """A function of a row id giving ``url_for(endpoint, key=id, **values)``; ids only (an int
    needs no quoting, which is what lets the URL be built once)."""
    text = url_for(endpoint, **{key: _MARK}, **values)
    head, mark, tail = text.partition(str(_MARK))
    if not mark or str(_MARK) in tail:
        raise ValueError(f"{endpoint}: {key} does not appear once in {text}")

    def link(row_id: int) -> str:
        return f"{head}{int(row_id)}{tail}"

    return link


def init_row_urls(app: Flask) -> None:
    app.add_template_global(row_url, "row_url")
