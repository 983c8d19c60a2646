"""Debtors and aging against hand-computed figures at a fixed date (the ledger of
tests/fixtures/debtors.py on the test clock's 2026-11-02): invoices 10, 30, 45, 75, 90 and 120
days past due, one not yet due, one partly paid, and the invoices that are no debt."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask

from portal.reports import debtors
from tests.fixtures.debtors import AS_OF, D, make_ledger


@pytest.fixture
def ledger(app: Flask, clock):
    return make_ledger(clock)


def _figures(aging: debtors.Aging) -> tuple:
    return (aging.currency, aging.invoices, aging.balance, *aging.buckets)


def test_totals_per_currency_and_buckets(ledger) -> None:
    assert debtors.debtors_total(AS_OF) == {"EUR": D("100.00"), "RUB": D("6710.00")}
    assert [_figures(a) for a in debtors.totals(AS_OF)] == [
        ("EUR", 1, D("100"), D("0"), D("100"), D("0"), D("0"), D("0")),
        ("RUB", 7, D("6710"), D("700"), D("1050"), D("1500"), D("3060"), D("400")),
    ]
    # A day later the 30-day invoice moves to 31–60 and the 90-day one to 90+.
    later = {a.currency: a for a in debtors.totals(AS_OF + timedelta(days=1))}["RUB"]
    assert later.buckets == (D("700"), D("1000"), D("1550"), D("3000"), D("460"))


def test_by_client_with_credit_balance_and_limit(ledger) -> None:
    rows = debtors.by_client(AS_OF)
    assert [(r.key, r.name, r.aging.currency, r.aging.balance) for r in rows] == [
        (ledger["alpha"].id, "ООО «Альфа»", "EUR", D("100")),
        (ledger["beta"].id, "ООО «Бета»", "RUB", D("3110")),
        (ledger["alpha"].id, "ООО «Альфа»", "RUB", D("2500")),
        (ledger["gamma"].id, "Гамма Гаммова", "RUB", D("1100")),
    ]
    alpha_rub = rows[2]
    assert alpha_rub.aging.buckets == (D("0"), D("1000"), D("1500"), D("0"), D("0"))
    assert (alpha_rub.credit_balance, alpha_rub.credit_limit) == (D("300"), D("5000"))
    # The limit is in the client's currency: the euro debt has none; no credit in euros.
    assert (rows[0].credit_balance, rows[0].credit_limit) == (D("0"), None)
    assert (rows[1].credit_balance, rows[1].credit_limit) == (D("0"), None)
    assert [r.name for r in debtors.by_client(AS_OF, currency="RUB", limit=2)] == [
        "ООО «Бета»",
        "ООО «Альфа»",
    ]


def test_by_manager(ledger) -> None:
    rows = debtors.by_manager(AS_OF)
    assert [(r.key, r.name, _figures(r.aging)) for r in rows] == [
        (ledger["anna"].id, "Анна Альфа", ("EUR", 1, D("100"), 0, D("100"), 0, 0, 0)),
        (ledger["anna"].id, "Анна Альфа", ("RUB", 2, D("2500"), 0, D("1000"), D("1500"), 0, 0)),
        (ledger["boris"].id, "Борис Бета", ("RUB", 3, D("3110"), 0, D("50"), 0, D("3060"), 0)),
        (None, "", ("RUB", 2, D("1100"), D("700"), 0, 0, 0, D("400"))),
    ]
    only_boris = debtors.by_manager(AS_OF, manager_id=ledger["boris"].id)
    assert [r.aging.balance for r in only_boris] == [D("3110")]
    assert debtors.totals(AS_OF, manager_id=ledger["anna"].id, currency="RUB")[0].balance == D(
        "2500"
    )


def test_by_month_of_issue(ledger) -> None:
    rows = debtors.by_month(AS_OF)
    assert [(r.key, r.aging.currency, r.aging.balance) for r in rows] == [
        (date(2026, 6, 1), "RUB", D("400")),
        (date(2026, 7, 1), "RUB", D("60")),
        (date(2026, 8, 1), "RUB", D("3000")),
        (date(2026, 9, 1), "RUB", D("1550")),
        (date(2026, 10, 1), "EUR", D("100")),
        (date(2026, 10, 1), "RUB", D("1700")),
    ]


def test_nothing_owed(app: Flask) -> None:
    assert debtors.debtors_total(AS_OF) == {}
    assert debtors.by_client(AS_OF) == [] and debtors.totals(AS_OF) == []
