"""Dashboard counters: the numbers staff glance at on every admin page.

Each counter is a name, a label, the list it links to and a function that counts. The areas that
own the data (orders, invoices, tickets, services, to-dos) set ``count`` and ``endpoint`` when
they arrive; until then the counter shows a dash rather than a made-up zero.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from portal.core.app_state import plugins
from portal.web.menu import DashboardCounter
from portal.web.permissions import current_staff_can

#: The dashboard's counters are the shell's ``DashboardCounter`` (plugins return them too).
Counter = DashboardCounter


def _business_today() -> date:
    from portal.core.clock import today

    return today()


def _todo_due() -> int:
    from portal.accounts.notes import todos_due_count

    return todos_due_count(_business_today())


def _overdue_invoices() -> int:
    from portal.invoicing.invoices import overdue_count

    return overdue_count(_business_today())


def _pending_orders() -> int:
    from portal.orders.orders import pending_count

    return pending_count()


def _services_due() -> int:
    from portal.orders.service_changes import services_due_count

    return services_due_count(_business_today())


def _tickets_awaiting() -> int:
    from portal.support.tickets import awaiting_reply_count

    return awaiting_reply_count()


COUNTERS: dict[str, Counter] = {
    counter.key: counter
    for counter in (
        Counter(
            "pending_orders",
            _l("Pending orders"),
            "admin_orders.pending",
            _pending_orders,
            "orders.manage",
        ),
        Counter(
            "overdue_invoices",
            _l("Overdue invoices"),
            "admin_billing.overdue_invoices",
            _overdue_invoices,
            "billing.view",
        ),
        Counter(
            "tickets_awaiting_reply",
            _l("Tickets awaiting reply"),
            "admin_support.index",
            _tickets_awaiting,
            "support.view",
        ),
        Counter(
            "services_due",
            _l("Services due to renew"),
            "admin_services.due",
            _services_due,
            "clients.view",
        ),
        Counter("todo_due", _l("To-do items due"), "admin_work.todos", _todo_due),
    )
}


def all_counters() -> dict[str, Counter]:
    """The core's counters, then the plugins' (``register_dashboard_counters``); a key already
    taken is ignored, so a plugin cannot replace a core counter."""
    found = dict(COUNTERS)
    for counter in plugins().collect("register_dashboard_counters"):
        found.setdefault(counter.key, counter)
    return found


def visible_counters() -> dict[str, Counter]:
    """The counters the signed-in staff member may follow; the others are not even counted
    (a support-only role neither sees nor pays for the overdue-invoice count)."""
    return {
        key: counter
        for key, counter in all_counters().items()
        if counter.permission is None or current_staff_can(counter.permission)
    }
