"""WTForms' ``html_params`` without ``string.Formatter``: the same attributes, several times
faster (issue #17: on the sign-in page, rendering four fields and their labels took a fifth of
the request, most of it in ``Markup.format``).

WTForms' widgets and labels write every attribute through ``wtforms.widgets.core.html_params``;
:func:`install` puts :func:`html_params` in its place (module, package and the widget classes'
``html_params`` attribute). ``tests/unit/test_html_attributes.py`` holds it to the original's
output, escaping included.
"""

from __future__ import annotations

from typing import Any

import wtforms.widgets
import wtforms.widgets.core
from markupsafe import Markup, escape
from wtforms.widgets.core import clean_key

#: WTForms' own function, kept for the test that compares the two.
original_html_params = wtforms.widgets.core.html_params


def html_params(**kwargs: Any) -> Markup:
    """``key="value"`` pairs sorted by key, as WTForms writes them: ``class_`` is ``class``,
    ``data_x_y`` is ``data-x-y``, True is the bare name, False is left out, every name and value
    is escaped (and a double quote inside a ``Markup`` value too)."""
    parts = []
    for key, value in sorted(kwargs.items()):
        if value is False:
            continue
        name = str(escape(clean_key(key)))
        if value is True:
            parts.append(name)
        else:
            parts.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(parts))  # noqa: S704 - every name and value above is escaped


def install() -> None:
    """Make WTForms write attributes with :func:`html_params` (idempotent)."""
    if wtforms.widgets.core.html_params is html_params:
        return
    wtforms.widgets.core.html_params = html_params
    wtforms.widgets.html_params = html_params
    for name in dir(wtforms.widgets.core):
        widget = getattr(wtforms.widgets.core, name)
        if isinstance(widget, type) and widget.__dict__.get("html_params") is not None:
            widget.html_params = staticmethod(html_params)  # type: ignore[attr-defined]
