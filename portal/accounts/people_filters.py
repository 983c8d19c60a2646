"""Template filters that name people from this area's rows: who started a run ("staff #3" as
the person's name) and the language a client's letters are written in. They live here, not in
the shell (portal/web/labels.py), because they read accounts; registered by
:func:`portal.accounts.register`."""

from __future__ import annotations

import re

from flask import Flask, g
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Client, Staff
from portal.core.extensions import db
from portal.web.labels import labels_of, register

_STAFF_MARK = re.compile(r"staff #(\d+)")


def actor(value: str | None) -> str:
    """Who started a run or finished a task, as stored ("scheduler", "cli", "staff #3", a
    worker's ``host:pid``): a label, the staff member's name, or the worker as it is."""
    if not value:
        return ""
    known = labels_of("actor")
    if value in known:
        return known[value]
    match = _STAFF_MARK.fullmatch(value)
    if match:
        staff = db.session.get(Staff, int(match.group(1)))
        return staff.full_name if staff is not None else known["staff"]
    return value


register("actor", {"scheduler": _l("Scheduler"), "cli": _l("Command line"), "staff": _l("Staff")})


def client_language(client_id: int | None) -> str:
    """The language a client's letters and documents are written in (for ``lang="..."`` on
    the text of a letter shown to staff); "" when the client is unknown."""
    if client_id is None:
        return ""
    cache: dict[int, str] = g.setdefault("_client_languages", {})
    if client_id not in cache:
        client = db.session.get(Client, client_id)
        cache[client_id] = client.language if client is not None else ""
    return cache[client_id]


def register_people_filters(app: Flask) -> None:
    app.add_template_filter(actor, "actor")
    app.add_template_filter(client_language, "client_language")
