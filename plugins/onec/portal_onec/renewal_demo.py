"""The renewal queue's and the inactive list's part of the 1C demo (called by
``portal_onec.demo.load``): the cloud's usage of the demo client's bases — the main office
worked yesterday, the St Petersburg office stopped 45 days ago — and the daily renewal job of the
demo date. So the ИТС licence (ending on the 1st of next month) is in the renewal queue, and the
1С-Отчётность licence of the St Petersburg organisation is an inactive client without an
outcome. Idempotent like the rest of the demo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from portal.plugin_api import Client, session
from portal_onec import renewals, usage
from portal_onec.models import InformationBase, Organisation

#: The base whose users stopped working, and how long ago.
IDLE_BASE, IDLE_DAYS = "Торговля СПб", 45


def load(today: date, client: Client) -> None:
    bases = (
        session()
        .scalars(
            select(InformationBase)
            .join(Organisation, Organisation.id == InformationBase.organisation_id)
            .where(Organisation.client_id == client.id)
            .order_by(InformationBase.id)
        )
        .all()
    )
    records = []
    for number, base in enumerate(bases, start=1):
        days = IDLE_DAYS if base.name == IDLE_BASE else 1
        moment = datetime.combine(today - timedelta(days=days), time(9, 30), tzinfo=UTC)
        for user in base.users:
            records.append(usage.UsageRecord(number, str(base.id), user.login, moment, 1))
    usage.store(records)
    renewals.queue_due(today)
