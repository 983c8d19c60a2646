"""The Invoices and Transactions tabs of the admin client card: the client's own rows only,
statuses and amounts, empty states, and a query count that does not grow with the rows."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portal import billing
from portal.accounts.models import Client
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.models import CreditReason, Invoice, Payment
from portal.testing.factories import make_client, make_staff
from tests.web.test_client_queries import counted


def _draft(client, description: str, amount: str) -> Invoice:
    draft = invoices.create_draft(
        client, [(billing.charge_line(description, Decimal(amount), "RUB"), None)]
    )
    db.session.commit()
    return draft


def _issued(client, amount: str, *, days_ago: int = 0, due_days: int = 10) -> Invoice:
    draft = _draft(client, "Услуга", amount)
    return invoices.issue_invoice(
        draft, today=today() - timedelta(days=days_ago), due_days=due_days
    )


def _paid_by_bank(invoice: Invoice, amount: str, reference: str) -> Payment:
    """A bank payment for ``invoice``; what exceeds it goes to the credit balance."""
    client = db.session.get(Client, invoice.client_id)
    return payments.record_payment(
        client,
        amount=Decimal(amount),
        method="bank",
        reference=reference,
        payment_date=today(),
        invoices=[invoice],
    )


def _text(staff_web, url: str) -> str:
    response = staff_web.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True).replace("\xa0", " ").replace(" ", " ")


@pytest.fixture
def billed(client_account, clock):
    """An overdue invoice, a paid one, a draft, a payment, a manual credit and another client."""
    overdue = _issued(client_account, "700.00", days_ago=30)
    paid = _issued(client_account, "860.00")
    draft = _draft(client_account, "Черновик", "123.00")
    payment = _paid_by_bank(paid, "1000.00", "PP-4711")
    payments.add_credit(
        client_account, Decimal("55.00"), CreditReason.MANUAL, description="Goodwill"
    )
    db.session.commit()
    other = make_client(clock, first_name="Other")
    other_invoice = _issued(other, "999.00")
    _paid_by_bank(other_invoice, "999.00", "PP-OTHER")
    return {
        "overdue": overdue,
        "paid": paid,
        "draft": draft,
        "payment": payment,
        "other": other_invoice,
    }


def test_invoice_tab_lists_own_invoices_with_status(staff_web, client_account, billed) -> None:
    page = _text(staff_web, f"/admin/clients/{client_account.id}/invoices")
    assert 'id="empty-tab"' not in page
    assert billed["overdue"].number in page and billed["paid"].number in page
    assert f"#{billed['draft'].id}" in page
    assert billed["other"].number not in page and "999.00" not in page
    assert "RUB 700.00" in page and "RUB 860.00" in page and "RUB 123.00" in page
    assert page.count(">Overdue<") == 1  # only the invoice past its due date
    assert "<td>Unpaid <span" in page and "<td>Paid</td>" in page and "<td>Draft</td>" in page
    assert f"/admin/billing/invoices/{billed['paid'].id}" in page
    assert f"/admin/billing/invoices/new?client_id={client_account.id}" in page
    # newest first
    assert page.index(f"#{billed['draft'].id}") < page.index(billed["overdue"].number)


def test_transaction_tab_lists_payments_allocations_and_credit(
    staff_web, client_account, billed
) -> None:
    page = _text(staff_web, f"/admin/clients/{client_account.id}/transactions")
    assert 'id="empty-tab"' not in page
    assert "PP-4711" in page and "PP-OTHER" not in page
    assert "<td>Bank transfer</td>" in page and "<td>bank</td>" not in page  # not the code
    assert "RUB 1,000.00" in page
    assert f"{billed['paid'].number}</a>: RUB 860.00" in page  # the invoice the payment settled
    assert billed["other"].number not in page
    assert "Manual adjustment" in page and "Goodwill" in page and "RUB 55.00" in page
    assert "Overpayment" in page and "RUB 140.00" in page
    # 1000 paid for an 860 invoice leaves 140 overpaid, plus 55 granted: 195 credit
    balance = page.split('id="credit-balance">', 1)[1].split("<", 1)[0]
    assert balance == "RUB 195.00"


def test_refund_is_marked(staff_web, client_account, billed) -> None:
    payments.refund(billed["payment"], Decimal("100.00"), to_credit=False, reference="R-1")
    db.session.commit()
    page = _text(staff_web, f"/admin/clients/{client_account.id}/transactions")
    assert "R-1" in page and "text-bg-warning" in page


def test_staff_without_billing_rights_see_numbers_without_links(
    app, clock, client_account, billed
) -> None:
    support = make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(support.email)
    page = _text(web, f"/admin/clients/{client_account.id}/invoices")
    assert billed["paid"].number in page
    link = f"/admin/billing/invoices/{billed['paid'].id}"
    assert link not in page and 'id="new-invoice"' not in page
    page = _text(web, f"/admin/clients/{client_account.id}/transactions")
    assert billed["paid"].number in page and link not in page


def test_empty_client_shows_empty_states(staff_web, client_account) -> None:
    invoices_page = _text(staff_web, f"/admin/clients/{client_account.id}/invoices")
    transactions_page = _text(staff_web, f"/admin/clients/{client_account.id}/transactions")
    assert 'id="empty-tab"' in invoices_page and 'id="empty-tab"' in transactions_page
    assert staff_web.get("/admin/clients/99999999/invoices").status_code == 404
    assert staff_web.get("/admin/clients/99999999/transactions").status_code == 404


def _tab_queries(staff_web, client_id: int) -> dict[str, int]:
    counts = {}
    for tab in ("invoices", "transactions"):
        with counted() as statements:
            assert staff_web.get(f"/admin/clients/{client_id}/{tab}").status_code == 200
        counts[tab] = len(statements)
    return counts


def _pay(client, n: int) -> None:
    _paid_by_bank(_issued(client, "10.00"), "15.00", f"Q-{client.id}-{n}")
    payments.add_credit(client, Decimal("1.00"), CreditReason.MANUAL)
    db.session.commit()


def test_tab_query_counts_do_not_grow_with_rows(staff_web, client_account) -> None:
    _pay(client_account, 0)
    few = _tab_queries(staff_web, client_account.id)
    for n in range(1, 12):
        _pay(client_account, n)
    assert _tab_queries(staff_web, client_account.id) == few


def _tab_count(page: str, tab: str) -> int:
    return int(page.split(f'id="tab-count-{tab}">', 1)[1].split("<", 1)[0])


def test_tab_titles_count_the_clients_own_rows_on_every_tab(
    staff_web, client_account, billed
) -> None:
    # Three invoices (the draft too: staff see it in the tab); one payment and two credit
    # movements (the overpayment, the goodwill credit). The other client's rows do not count.
    for tab in ("", "/invoices", "/transactions", "/log"):
        page = _text(staff_web, f"/admin/clients/{client_account.id}{tab}")
        assert (_tab_count(page, "invoices"), _tab_count(page, "transactions")) == (3, 3)
    payments.refund(billed["payment"], Decimal("100.00"), to_credit=False, reference="R-1")
    db.session.commit()
    page = _text(staff_web, f"/admin/clients/{client_account.id}/transactions")
    assert _tab_count(page, "transactions") == 4
    assert page.count('class="payment"') + page.count('class="credit-entry"') == 4


def test_tab_titles_of_a_client_without_billing_say_zero(staff_web, client_account) -> None:
    page = _text(staff_web, f"/admin/clients/{client_account.id}/invoices")
    assert (_tab_count(page, "invoices"), _tab_count(page, "transactions")) == (0, 0)
