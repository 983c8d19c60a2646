"""Dashboard counters: the numbers staff glance at on every admin page.

Each counter is a name, a label, the list it links to and a function that counts. The areas that
own the data (orders, invoices, tickets, services, to-dos) set ``count`` and ``endpoint`` when
they arrive; until then the counter shows a dash rather than a made-up zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass
class Counter:
    key: str
    label: str
    endpoint: str | None = None
    count: Callable[[], int] | None = None

    def value(self) -> int | None:
        return self.count() if self.count else None


def _todo_due() -> int:
    from flask import current_app

    from portal.app_state import clock
    from portal.clock import local_today
    from portal.services.notes import todos_due_count

    return todos_due_count(local_today(clock(), current_app.config["PORTAL"]["default_timezone"]))


COUNTERS: dict[str, Counter] = {
    counter.key: counter
    for counter in (
        Counter("pending_orders", _l("Pending orders")),
        Counter("overdue_invoices", _l("Overdue invoices")),
        Counter("tickets_awaiting_reply", _l("Tickets awaiting reply")),
        Counter("services_due", _l("Services due to renew")),
        Counter("todo_due", _l("To-do items due"), "admin_work.todos", _todo_due),
    )
}
