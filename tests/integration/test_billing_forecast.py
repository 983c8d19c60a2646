"""The forecast counts the invoices the billing runs really issue (issue #14, item 6): one per
client and run, one per service for clients with separate invoices."""

from datetime import date, timedelta

from portal.core.extensions import db
from portal.invoicing import billing_forecast
from portal.invoicing.billing_run import bill_due
from portal.platform import demo
from tests.integration.test_billing_run import buy, customer, shop

__all__ = ["shop"]  # the fixture, shared with test_billing_run

START = date(2026, 2, 20)


def test_the_forecast_counts_the_invoices_the_daily_runs_issue(shop, clock) -> None:
    together, apart, mixed = customer(clock), customer(clock), customer(clock)
    apart.separate_invoices = mixed.separate_invoices = True
    db.session.commit()
    for client in (together, apart):
        buy(shop, client, demo.DISK_PRODUCT, "monthly", 1)
        buy(shop, client, demo.USERS_PRODUCT, "monthly", 3)
    buy(shop, mixed, demo.DISK_PRODUCT, "monthly", 1)
    buy(shop, mixed, demo.USERS_PRODUCT, "monthly", 2)

    months = billing_forecast.forecast(START, 2).months()
    end = date(2026, 4, 20)

    issued, day = 0, START
    while day < end:  # the daily runs over the forecast's two months
        issued += bill_due(day).invoices
        day += timedelta(days=1)

    # runs of 22.02 and 25.03 (due 01.03, 01.04): 1 + 2 + 2 invoices each, not one per client
    assert issued == 2 * 5
    assert [(m.month, m.currency, m.invoices) for m in months] == [
        ("2026-02", "RUB", 5),
        ("2026-03", "RUB", 5),
    ]
