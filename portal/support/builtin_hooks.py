"""The support area's built-in plugin: a merged client's tickets and e-mails follow it.

Registered before any plugin by the app factory (``BUILTIN_PLUGINS`` in portal/core/app.py), as
datasette registers its ``default_*`` modules; docs/hooks.md, "Built-in plugins".
"""

from __future__ import annotations

from sqlalchemy import update

from portal.accounts.clients import ClientRecords
from portal.core.extensions import db
from portal.messaging.models.outbox import OutboundMessage
from portal.platform.hooks import hookimpl
from portal.support.models.ticket import Ticket


def _move(source_id: int, target_id: int) -> None:
    for model in (Ticket, OutboundMessage):
        db.session.execute(
            update(model)
            .where(model.client_id == source_id)
            .values(client_id=target_id)
            .execution_options(synchronize_session=False)
        )


@hookimpl(trylast=True)
def register_client_records() -> list[ClientRecords]:
    """Tickets are not history: a client with tickets only may still be deleted."""
    return [ClientRecords("support", _move)]
