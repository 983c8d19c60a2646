"""The client's prepaid balance section and the staff's call list: the page layouts are the
base plugin's (:mod:`portal_telephony.client`, :mod:`portal_telephony.admin`), the content is
the rating side's (balance and terms, the latest rated calls)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from portal.plugin_api import credit_balance, session
from portal_telephony.rating_models import Call, ClientTerms


def _latest(client_id: int, count: int) -> list[Call]:
    return list(
        session().scalars(
            select(Call)
            .where(Call.client_id == client_id)
            .order_by(Call.started_at.desc())
            .limit(count)
        )
    )


def balance_section(client: Any) -> Markup:
    """The balance page's content for ``client``: the balance (the core's credit balance, which
    prepaid calls are debited from), the terms and the latest calls."""
    terms = session().get(ClientTerms, client.id)
    latest = _latest(client.id, 10)
    return Markup(  # noqa: S704 - an autoescaped template's output
        render_template(
            "telephony/_balance.html",
            terms=terms,
            balance=credit_balance(client),
            currency=client.currency,
            latest=latest,
        )
    )


def calls_section(client: Any) -> Markup:
    """The "Calls" tab's content for ``client``: the count, the cost and the latest calls."""
    count, total = (
        session()
        .execute(select(func.count(), func.sum(Call.cost)).where(Call.client_id == client.id))
        .one()
    )
    latest = _latest(client.id, 20)
    return Markup(  # noqa: S704 - an autoescaped template's output
        render_template(
            "telephony/_calls_tab.html",
            count=count,
            total=total if total is not None else Decimal("0.00"),
            latest=latest,
            currency=client.currency,
            terms=session().get(ClientTerms, client.id),
        )
    )
