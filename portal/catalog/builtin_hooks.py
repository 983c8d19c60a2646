"""The catalog area's built-in plugin: a merged client's personal discounts and tax rules follow
it (``client_rules.move_rules``).

Registered before any plugin by the app factory (``BUILTIN_PLUGINS`` in portal/core/app.py);
docs/hooks.md, "Built-in plugins".
"""

from __future__ import annotations

from portal.accounts.clients import ClientRecords
from portal.catalog.client_rules import move_rules
from portal.platform.hooks import hookimpl


@hookimpl(trylast=True)
def register_client_records() -> list[ClientRecords]:
    """Pricing rules are not history: a client with rules only may still be deleted."""
    return [ClientRecords("catalog", move_rules)]
