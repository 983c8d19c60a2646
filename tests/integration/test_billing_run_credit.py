"""Credit carried forward: the billing run pays the renewal invoices it issues from the client's
credit balance (a downgrade's credit, an overpayment), in its currency, once, and never spends
credit that a manual "apply credit" spends at the same moment (issue #16)."""

import multiprocessing
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from portal import hookimpl
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing import invoice_documents, payments
from portal.invoicing.billing_run import bill_due
from portal.invoicing.models import CreditEntry, CreditReason, Invoice, InvoiceStatus
from portal.messaging.models.outbox import OutboundMessage
from portal.messaging.templates import compose_letter
from portal.orders import service_changes
from portal.orders.models import Service
from portal.orders.service_changes import ChangeRequest
from portal.platform import demo
from portal.testing.concurrency import billing_run
from tests.integration.test_billing_run import RENEWAL, buy, customer, renewal_invoices, shop

__all__ = ["shop"]  # the fixture, shared with test_billing_run

D = Decimal
DOWNGRADE_DAY = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # 150 of the period's 181 days left
RUN_DAY = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)  # 7 days before the renewal on 01.08.2026


def paid_up_users(shop, clock, users: int):
    """A client with ``users`` users for 01.02.2026 - 31.07.2026 (4 800,00 each), paid."""
    client = customer(clock)
    client.language = "ru"
    service = buy(shop, client, demo.USERS_PRODUCT, "semi_annual", users)
    (order_invoice,) = db.session.scalars(select(Invoice).where(Invoice.client_id == client.id))
    payments.record_payment(
        client,
        amount=order_invoice.total,
        method="bank",
        reference=f"pp-{client.id}",
        payment_date=date(2026, 2, 1),
        invoices=[order_invoice],
    )
    return client, service


def downgrade(clock, service: Service, users: int) -> None:
    clock.set(DOWNGRADE_DAY)
    option = service.product.options[0].id
    service_changes.confirm(service, ChangeRequest(options={option: users}), today=today())


def applied(invoice: Invoice) -> list[Decimal]:
    return list(
        db.session.scalars(
            select(CreditEntry.amount).where(
                CreditEntry.invoice_id == invoice.id, CreditEntry.reason == CreditReason.APPLIED
            )
        )
    )


def plain(text: str) -> str:
    """Money as Babel writes it in Russian, with plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def invoice_letter(invoice: Invoice) -> str:
    """The invoice e-mail as it is composed when the outbox delivers it."""
    (letter,) = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.dedupe_key == f"invoice-issued:{invoice.id}")
    )
    compose_letter(letter)
    return plain(letter.text)


def test_a_downgrade_credit_is_taken_by_the_next_renewal_invoice(shop, clock) -> None:
    client, service = paid_up_users(shop, clock, 6)
    downgrade(clock, service, 5)  # 4 800,00 x 150 / 181 back
    assert payments.credit_balance(client.id, "RUB") == D("3977.90")

    clock.set(RUN_DAY)
    bill_due(today())

    (renewal,) = renewal_invoices(client.id)
    assert renewal.total == D("24000.00")
    assert (renewal.amount_paid, renewal.balance) == (D("3977.90"), D("20022.10"))
    assert renewal.status is InvoiceStatus.PARTIALLY_PAID
    assert applied(renewal) == [D("-3977.90")]
    assert payments.credit_balance(client.id, "RUB") == D("0.00")

    # the PDF (its printable page renders the same data) and the e-mail say what is left to pay
    page = plain(invoice_documents.invoice_page(renewal))
    assert "3 977,90" in page and "20 022,10" in page
    letter = invoice_letter(renewal)
    assert "Кредитный баланс оплатил 3 977,90 ₽" in letter
    assert "К оплате: 20 022,10 ₽. Пожалуйста, оплатите до 01.08.2026." in letter

    # a second run the same day, and a later one in the window, apply nothing again
    assert bill_due(today()).invoices == 0
    assert bill_due(date(2026, 7, 31)).invoices == 0
    db.session.expire_all()
    assert applied(renewal) == [D("-3977.90")]
    assert db.session.get(Invoice, renewal.id).amount_paid == D("3977.90")


class PaidInvoices:
    def __init__(self) -> None:
        self.paid: list[tuple[int, str]] = []

    @hookimpl
    def invoice_paid(self, invoice) -> None:
        self.paid.append((invoice.id, invoice.status.value))


def test_a_renewal_paid_in_full_by_credit_is_paid_like_any_other(make_app, shop, clock) -> None:
    listener = PaidInvoices()
    app = make_app(extra_plugins=(listener,))
    with app.app_context():
        client, service = paid_up_users(shop, clock, 6)
        downgrade(clock, service, 1)  # 24 000,00 x 150 / 181 back
        assert payments.credit_balance(client.id, "RUB") == D("19889.50")
        # credit in another currency is not this invoice's
        payments.grant_credit(client, D("100.00"), description="goodwill", currency="USD")
        listener.paid.clear()

        clock.set(RUN_DAY)
        bill_due(today())

        (renewal,) = renewal_invoices(client.id)
        assert (renewal.total, renewal.amount_paid) == (D("4800.00"), D("4800.00"))
        assert renewal.status is InvoiceStatus.PAID and renewal.paid_date == date(2026, 7, 25)
        assert listener.paid == [(renewal.id, "paid")]
        assert payments.credit_balance(client.id, "RUB") == D("15089.50")
        assert payments.credit_balance(client.id, "USD") == D("100.00")
        letter = invoice_letter(renewal)
        assert "4 800,00 ₽" in letter and "К оплате ничего не осталось." in letter


def test_renewal_drafts_take_no_credit(shop, clock) -> None:
    """A draft is not an invoice yet: its credit waits until staff issue and apply it."""
    from portal.platform import runtime_settings

    client, service = paid_up_users(shop, clock, 6)
    downgrade(clock, service, 5)
    runtime_settings.put("renewal_invoices_as_drafts", True)
    db.session.commit()
    clock.set(RUN_DAY)
    bill_due(today())
    (draft,) = renewal_invoices(client.id)
    assert draft.status is InvoiceStatus.DRAFT and draft.amount_paid == D("0.00")
    assert payments.credit_balance(client.id, "RUB") == D("3977.90")


def test_a_manual_apply_during_the_run_does_not_spend_the_same_credit(
    shop, clock, portal_database_url, tmp_path: Path
) -> None:
    """The run has paid the renewal from credit and not committed yet; staff apply the credit to
    an older invoice at that moment. Without a lock they would both spend it."""
    client = customer(clock)
    buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 6)  # 28 800,00, left unpaid
    (older,) = db.session.scalars(select(Invoice).where(Invoice.client_id == client.id))
    payments.grant_credit(client, D("30000.00"), description="prepaid")
    signal = tmp_path / "paused"

    context = multiprocessing.get_context("spawn")
    run = context.Process(
        target=billing_run,
        args=(portal_database_url, str(tmp_path / "run"), "2026-07-25", 2, 0, (str(signal), 2)),
    )
    run.start()
    try:
        deadline = time.monotonic() + 120
        while not signal.exists():
            assert run.is_alive() and time.monotonic() < deadline, "the run never paused"
            time.sleep(0.05)
        # the run holds the client and its uncommitted credit entry: this waits for it
        db.session.expire_all()
        spent = payments.apply_credit(db.session.get(Invoice, older.id))
    finally:
        run.join(120)
    assert run.exitcode == 0

    db.session.expire_all()
    (renewal,) = renewal_invoices(client.id)
    assert renewal.status is InvoiceStatus.PAID  # 28 800,00 of the 30 000,00
    assert spent == D("1200.00")  # what the run left
    assert db.session.get(Invoice, older.id).amount_paid == D("1200.00")
    assert payments.credit_balance(client.id, "RUB") == D("0.00")
    assert renewal.lines[0].period_start == RENEWAL
