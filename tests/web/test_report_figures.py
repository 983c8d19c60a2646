"""The owners' dashboard keeps its figures (``report_figures``, docs/performance.md, "Report
figures"): a second visit reads them instead of computing them again; a payment, a bulk update
of tickets or five minutes make the next visit compute them again; figures computed while a
change commits are not kept as current."""

import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal.core.extensions import db
from portal.invoicing import payments
from portal.platform.models import ReportFigures
from portal.reports import dashboard
from portal.support.models.ticket import Ticket
from tests.fixtures.income import make_book
from tests.web.test_client_queries import counted


@pytest.fixture
def book(app: Flask, clock):
    return make_book(clock)  # leaves the clock on 5 November 2026


def _income(html: str) -> str:
    section = html.split('id="figure-income"', 1)[1].split('class="col-md-3"')[0]
    return re.sub(r"[\s\u00a0\u202f,]", "", section)


def _row() -> ReportFigures:
    row = db.session.get(ReportFigures, dashboard.KEY, populate_existing=True)
    assert row is not None
    return row


def _computes(statements: list[str]) -> bool:
    """Whether a visit computed the figures (the income query reads the payments)."""
    return any("FROM payment" in s for s in statements)


def test_a_second_visit_reads_the_kept_figures(book, staff_web) -> None:
    with counted() as first:
        html = staff_web.get("/admin/reports/").get_data(as_text=True)
    assert "6780.00" in _income(html) and 'id="figures-computed"' in html
    assert _computes(first) and not _row().stale
    with counted() as second:
        again = staff_web.get("/admin/reports/").get_data(as_text=True)
    assert not _computes(second) and len(second) < len(first)
    assert "6780.00" in _income(again)


def test_a_payment_makes_the_next_visit_compute_them(book, clock, staff_web) -> None:
    staff_web.get("/admin/reports/")
    payments.record_payment(book.romashka, amount=D("1000.00"), method="bank_transfer",
                            reference="PP-77", payment_date=date(2026, 11, 5))  # fmt: skip
    assert _row().stale
    with counted() as statements:
        html = staff_web.get("/admin/reports/").get_data(as_text=True)
    assert _computes(statements) and "7780.00" in _income(html)
    assert not _row().stale


def test_a_bulk_update_marks_them_stale(book, staff_web) -> None:
    staff_web.get("/admin/reports/")
    db.session.execute(update(Ticket).values(subject="x"))
    db.session.commit()
    assert _row().stale


def test_five_minutes_later_they_are_computed_again(book, clock, staff_web) -> None:
    staff_web.get("/admin/reports/")
    computed = _row().computed_at
    clock.advance(timedelta(minutes=4))
    with counted() as statements:
        staff_web.get("/admin/reports/")
    assert not _computes(statements) and _row().computed_at == computed
    clock.advance(dashboard.MAX_AGE)
    with counted() as statements:
        staff_web.get("/admin/reports/")
    assert _computes(statements) and _row().computed_at == clock.now()


def test_figures_computed_while_a_change_commits_are_not_kept(
    book, clock, staff_web, monkeypatch
) -> None:
    staff_web.get("/admin/reports/")
    real = dashboard._computed

    def computed_then_paid(*args):  # a payment commits between the claim and the store
        raw = real(*args)
        payments.record_payment(book.romashka, amount=D("5.00"), method="bank_transfer",
                                reference="PP-78", payment_date=date(2026, 11, 5))  # fmt: skip
        return raw

    clock.advance(dashboard.MAX_AGE)
    monkeypatch.setattr(dashboard, "_computed", computed_then_paid)
    shown = dashboard.figures(clock.now())
    monkeypatch.undo()
    assert shown.computed_at is None  # shown, but not kept as current
    assert _row().stale
    html = staff_web.get("/admin/reports/").get_data(as_text=True)
    assert "6785.00" in _income(html)
    assert db.session.scalar(select(ReportFigures.stale)) is False


def test_a_writer_marks_them_stale_when_it_commits_and_holds_no_lock_on_them(
    book, staff_web
) -> None:
    """Marked as the writer commits, its last statement: a writer whose transaction is
    still open has not touched the row (another writer that locks rows in another order cannot
    deadlock on it), and a rolled-back write marks nothing."""
    staff_web.get("/admin/reports/")
    db.session.execute(update(Ticket).values(subject="rolled back"))
    with db.engine.connect() as other:
        assert other.scalar(select(ReportFigures.stale)) is False
    db.session.rollback()
    assert _row().stale is False
    db.session.execute(update(Ticket).values(subject="kept"))
    with db.engine.connect() as other:
        assert other.scalar(select(ReportFigures.stale)) is False
    db.session.commit()
    assert _row().stale is True
