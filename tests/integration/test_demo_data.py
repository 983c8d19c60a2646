"""The demo is coherent: the company client is a legal entity with valid requisites, the demo
service has its paid invoice, a second client's monthly payments fill the income and MRR
reports; a second `portal demo` changes nothing."""

from flask import Flask
from sqlalchemy import func, select
from stdnum.ru import inn as stdnum_inn

from portal.accounts.models import AuditEntry, Client
from portal.accounts.requisites import LegalType, clean_account, clean_kpp
from portal.core.extensions import db
from portal.invoicing.models import BilledPeriod, Invoice, InvoiceStatus, Payment
from portal.orders.models import Service
from portal.platform.demo import DEMO_CLIENT, DEMO_MONTHLY_CLIENT, HISTORY_MONTHS
from portal.reports.income import income_by_month, income_total
from portal.reports.mrr import mrr_by_currency

MODELS = (Client, Service, Invoice, Payment, BilledPeriod, AuditEntry)


def counts() -> list[int]:
    return [db.session.scalar(select(func.count()).select_from(m)) for m in MODELS]


def test_demo_is_coherent_and_idempotent(app: Flask, clock) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    first = counts()
    second = runner.invoke(args=["demo"])
    assert "Demo data already present." in second.output
    assert counts() == first

    company = db.session.scalar(select(Client).where(Client.email == DEMO_CLIENT[0]))
    assert company.legal_type is LegalType.LEGAL_ENTITY and company.company == "ООО «Ромашка»"
    assert stdnum_inn.is_valid(company.inn) and len(company.inn) == 10
    assert clean_kpp(company.kpp) == company.kpp
    assert clean_account(company.bank_account, company.bank_bic) == company.bank_account

    [service] = db.session.scalars(select(Service).where(Service.client_id == company.id))
    [invoice] = db.session.scalars(select(Invoice).where(Invoice.client_id == company.id))
    assert invoice.status is InvoiceStatus.PAID and invoice.total == service.recurring_amount
    assert [line.service_id for line in invoice.lines] == [service.id]

    monthly = db.session.scalar(select(Client).where(Client.email == DEMO_MONTHLY_CLIENT[0]))
    paid = db.session.scalars(
        select(Invoice).where(Invoice.client_id == monthly.id).order_by(Invoice.id)
    ).all()
    assert len(paid) == HISTORY_MONTHS + 1
    assert all(i.status is InvoiceStatus.PAID for i in paid)
    issued = [i.issue_date for i in paid]
    assert issued == sorted(issued) and len({(d.year, d.month) for d in issued}) == len(paid)

    today = clock.now().date()
    first_month = paid[0].issue_date
    by_month = income_by_month(first_month, HISTORY_MONTHS + 1, "RUB")
    assert len(by_month) == HISTORY_MONTHS + 1 and all(amount > 0 for _m, amount in by_month)
    assert income_total(first_month, today)["RUB"] > 0
    assert mrr_by_currency(today)["RUB"] > 0
