"""The call detail report reaches the client with the renewal invoice: the core's invoice
e-mail, delivered over real SMTP on loopback, carries it as calls-<number>.pdf and .csv (rendered
when the outbox delivers it, in the client's language), and staff find it on the admin invoice
page. The core's ``invoice_attachments`` hook (docs/hooks.md)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from conftest import set_day
from invoice_helpers import renewal
from portal_telephony import demo, numbers, tariff_admin
from portal_telephony.cdr_import import import_file
from pypdf import PdfReader
from rating_fixtures import make_tariff, master_row, write_master

from portal.plugin_api import record_payment
from portal.testing import actions
from portal.testing.factories import make_staff

D = Decimal
NUMBER = "74957001005"


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def pdf_text(data: bytes) -> str:
    """Every page's text, whitespace collapsed."""
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_the_renewal_invoice_mail_carries_the_call_detail_report(
    app, clock, customer, catalogue, pool, tmp_path, mailbox
) -> None:
    set_day(clock, date(2026, 3, 1))
    make_tariff()  # Moscow 1.00/min, mobile 2.00/min, 60/60
    tariff_admin.save_terms(customer.id, prepaid=False)
    product = catalogue[demo.DEPARTMENT]
    plan, first = actions.order_and_accept(customer, product, today=date(2026, 3, 1))
    record_payment(customer, amount=first.total, method="bank", reference="m", invoices=[first])
    set_day(clock, date(2026, 3, 5))
    numbers.assign(pool[NUMBER], plan, actor="client", extension="101")
    rows = [
        master_row("m1", src=NUMBER, dst="84951234567", start=at(10), billsec=61),  # 2.00
        master_row("m2", src=NUMBER, dst="89161234567", start=at(11), billsec=30),  # 2.00
    ]
    import_file(write_master(tmp_path / "march.csv", rows), source="pbx")

    set_day(clock, date(2026, 4, 1))
    april = renewal(customer, date(2026, 4, 1))
    assert app.test_cli_runner().invoke(args=["mail", "send"]).exit_code == 0
    [mail] = [m for m in mailbox if april.number in m["Subject"]]
    assert mail["To"] == customer.email
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(files) == {
        f"invoice-{april.number}.pdf",
        f"calls-{april.number}.pdf",
        f"calls-{april.number}.csv",
    }
    report = files[f"calls-{april.number}.pdf"]
    assert report.get_content_type() == "application/pdf"
    text = pdf_text(report.get_content())
    assert "Детализация звонков" in text  # the client's language (Russian)
    assert "84951234567" in text and "89161234567" in text and "4,00" in text
    table = files[f"calls-{april.number}.csv"]
    assert table.get_content_type() == "text/csv"
    rows_read = list(csv.reader(io.StringIO(table.get_payload(decode=True).decode("utf-8-sig"))))
    assert [r[2] for r in rows_read[1:-1]] == ["84951234567", "89161234567"]
    assert rows_read[-1][-1] == "4.00"

    staff = app.test_client()
    staff.sign_in_staff(make_staff(clock, role="accountant").email)
    page = staff.get(f"/admin/billing/invoices/{april.id}").get_data(as_text=True)
    link = f"/admin/billing/invoices/{april.id}/attachments/calls.pdf"
    assert f'href="{link}"' in page
    got = staff.get(link)
    assert got.status_code == 200 and "89161234567" in pdf_text(got.data)
    support = app.test_client()
    support.sign_in_staff(make_staff(clock, role="support").email)  # no billing.view
    assert support.get(link).status_code == 403
