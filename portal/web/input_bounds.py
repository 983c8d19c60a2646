"""The backstop for what a request may carry, for every form of every area and plugin.

Forms bound their own fields (``portal.web.forms``: text lengths, numbers, money) and answer in
the form with the field's message; this refuses what no form should ever see: a NUL byte
(PostgreSQL refuses it in text) or a value longer than ``MAX_FIELD_CHARS``. docs/security.md,
"Input bounds".
"""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

#: Longer than any field a form accepts (ticket bodies: ``portal.web.forms.MAX_TEXT``).
MAX_FIELD_CHARS = 200_000


def _refuse_unbounded_input() -> tuple[str, int] | None:
    """400 for a NUL byte in a query or form value, 413 for a value past the backstop."""
    for _name, values in (*request.args.lists(), *request.form.lists()):
        for value in values:
            if "\x00" in value:
                return render_template("errors/error.html", error=BadRequest()), 400
            if len(value) > MAX_FIELD_CHARS:
                error = RequestEntityTooLarge()
                return render_template(
                    "errors/error.html", error=error, too_long=MAX_FIELD_CHARS
                ), 413
    return None


def init_input_bounds(app: Flask) -> None:
    app.before_request(_refuse_unbounded_input)
