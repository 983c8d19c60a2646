"""Billing → Bank statement import and Unmatched payments, as staff use them: upload a
windows-1251 or UTF-8 file, read the preview (nothing recorded yet), confirm, upload the same file
again (nothing changes), then link, credit or dismiss what was not matched; CSRF and permissions
on every step; and payments shown per allocation on the invoice pages of both areas."""

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import billing
from portal.accounts.models import Role
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.models import (
    BankStatementFile,
    Invoice,
    InvoiceStatus,
    Payment,
    UnmatchedPayment,
    UnmatchedStatus,
)
from portal.testing.bank import incoming, onec_statement
from portal.testing.factories import make_client, make_staff
from portal.testing.web import csrf_token_from

D = Decimal
DAY = date(2026, 11, 2)
INN = "7701234567"


def _issued(client, amount: str) -> Invoice:
    client.tax_exempt = True
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=DAY)


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ").replace("\u202f", " ")


def _upload(web, data: bytes, name: str = "kl_to_1c.txt"):
    page = web.get("/admin/billing/bank/import")
    assert page.status_code == 200
    return web.post(
        "/admin/billing/bank/import",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "statement": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )


@pytest.fixture
def russian_staff(staff_web, staff_member):
    staff_member.language = "ru"
    db.session.commit()
    return staff_web


@pytest.fixture
def company(client_account):
    client_account.inn = INN
    client_account.company = "ООО «Ромашка»"
    db.session.commit()
    return client_account


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig"])
def test_upload_preview_confirm_and_the_same_file_again(russian_staff, company, encoding) -> None:
    invoice = _issued(company, "860.00")
    data = onec_statement(
        incoming("72815", "1000.00", f"Оплата по счету {invoice.number} от 02.11.2026", INN),
        incoming("16", "50.00", "Без счёта", "7709999999", payer="ИП Иванов"),
        encoding=encoding,
    )
    response = _upload(russian_staff, data, "выписка.txt")
    assert response.status_code == 302
    preview_url = response.location
    preview = _text(russian_staff.get(preview_url))

    assert "Будет записан" in preview and invoice.number in preview
    assert "860,00 ₽" in preview and "140,00 ₽" in preview  # to the invoice, to credit
    assert "ИП Иванов" in preview and "Не сопоставлен" in preview
    assert "Нет клиента с ИНН 7709999999" in preview or "ИНН 7709999999" in preview
    assert db.session.scalar(select(func.count(Payment.id))) == 0  # nothing recorded yet
    stored = db.session.scalars(select(BankStatementFile)).one()
    assert stored.filename == "выписка.txt" and stored.data == data

    assert russian_staff.post(f"{preview_url}/confirm").status_code == 400  # no CSRF token
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    confirmed = russian_staff.submit(f"{preview_url}/confirm", {}, form_page=preview_url)
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
    assert payments.credit_balance(company.id, "RUB") == D("140.00")
    queued = db.session.scalars(select(UnmatchedPayment)).one()
    assert (queued.number, queued.amount, queued.status) == ("16", D("50.00"), UnmatchedStatus.OPEN)

    again = _upload(russian_staff, data, "снова.txt")
    assert again.location == preview_url  # the same file is the same stored statement
    page = _text(russian_staff.get(preview_url))
    assert "Уже импортирован" in page and "Уже в неразнесённых платежах" in page
    assert 'id="confirm-import"' not in page
    repeat = russian_staff.submit(
        f"{preview_url}/confirm", {}, form_page="/admin/billing/bank/import"
    )
    assert "уже импортировано: 2" in _text(russian_staff.get(repeat.location))
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert db.session.scalar(select(func.count(UnmatchedPayment.id))) == 1
    assert db.session.scalar(select(func.count(BankStatementFile.id))) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            onec_statement(incoming("1", "сто рублей", "Оплата", INN)),
            "Файл 1CClientBankExchange повреждён: строка 7: «сто рублей» — не сумма больше нуля",
        ),
        (b"%PDF-1.4 not a statement", "Неизвестный формат выписки"),
        (b"", "Файл пустой."),
        (onec_statement(incoming("1", "10.00", "Оплата", INN))[:-40], "файл обрезан"),
    ],
)
def test_a_wrong_or_broken_file_is_refused_in_russian(russian_staff, data, message) -> None:
    response = _upload(russian_staff, data)
    assert response.status_code == 200
    assert message in _text(response)
    assert db.session.scalar(select(func.count(BankStatementFile.id))) == 0


def test_queue_link_by_hand_credit_and_dismiss(russian_staff, company, clock) -> None:
    first, second = _issued(company, "500.00"), _issued(company, "300.00")
    other = make_client(clock, first_name="Пётр", last_name="Сидоров")
    response = _upload(
        russian_staff,
        onec_statement(
            incoming("555", "25000.00", "Оплата по договору 7", ""),
            incoming("556", "1000.00", "Аванс", ""),
            incoming("557", "10.00", "Возврат", "7708888888"),
        ),
    )
    russian_staff.submit(f"{response.location}/confirm", {}, form_page=response.location)
    link, credit, foreign = db.session.scalars(
        select(UnmatchedPayment).order_by(UnmatchedPayment.id)
    ).all()
    queue = _text(russian_staff.get("/admin/billing/bank/unmatched"))
    assert all(row.reference in queue for row in (link, credit, foreign))

    item = f"/admin/billing/bank/unmatched/{link.id}"
    found = _text(russian_staff.get(f"{item}?q=Ромашка"))
    assert f"#{company.id} ООО «Ромашка»" in found and "Сидоров" not in found
    assert f"#{other.id}" in _text(russian_staff.get(f"{item}?q=Сидоров"))
    chosen = _text(russian_staff.get(f"{item}?client_id={company.id}"))
    assert first.number in chosen and second.number in chosen

    form = {"client_id": company.id, "invoice_ids": [first.id, second.id], "action": "link"}
    assert russian_staff.post(f"{item}/resolve", data=form).status_code == 400  # CSRF
    done = russian_staff.submit(f"{item}/resolve", form, form_page=f"{item}?client_id={company.id}")
    assert done.status_code == 302
    db.session.expire_all()
    payment = db.session.get(Payment, link.payment_id)
    assert (payment.method, payment.reference, payment.amount) == (
        "bank",
        link.reference,
        D("25000.00"),
    )
    assert link.status is UnmatchedStatus.LINKED
    assert db.session.get(Invoice, first.id).status is InvoiceStatus.PAID

    # the mass payment, per allocation on each invoice page (admin and client area)
    admin_page = _text(russian_staff.get(f"/admin/billing/invoices/{second.id}"))
    assert f"{link.reference} · 300,00 ₽" in admin_page
    assert "из платежа 25 000,00 ₽" in admin_page and "500,00 ₽ — на другие счета" in admin_page
    assert "24 200,00 ₽ — на баланс" in admin_page
    assert f"{link.reference} · 25 000,00 ₽" not in admin_page

    credit_item = f"/admin/billing/bank/unmatched/{credit.id}"
    russian_staff.submit(
        f"{credit_item}/resolve",
        {"client_id": other.id, "action": "credit"},
        form_page=f"{credit_item}?client_id={other.id}",
    )
    db.session.expire_all()
    assert credit.status is UnmatchedStatus.CREDITED
    assert payments.credit_balance(other.id, "RUB") == D("1000.00")

    foreign_item = f"/admin/billing/bank/unmatched/{foreign.id}"
    refused = russian_staff.submit(
        f"{foreign_item}/dismiss", {"reason": ""}, form_page=foreign_item
    )
    assert refused.status_code == 302
    russian_staff.submit(
        f"{foreign_item}/dismiss", {"reason": "Не наш платёж"}, form_page=foreign_item
    )
    db.session.expire_all()
    assert (foreign.status, foreign.dismiss_reason) == (UnmatchedStatus.DISMISSED, "Не наш платёж")
    assert "Не наш платёж" in _text(russian_staff.get(f"{foreign_item}"))
    assert _text(russian_staff.get("/admin/billing/bank/unmatched")).count("data-reference=") == 0
    every = _text(russian_staff.get("/admin/billing/bank/unmatched?status=all"))
    assert every.count("data-reference=") == 3
    assert db.session.scalar(select(func.count(Payment.id))) == 2


def test_client_invoice_page_shows_the_part_of_a_mass_payment(client_web, client_account) -> None:
    client_account.language = "ru"
    first, second = _issued(client_account, "24500.00"), _issued(client_account, "500.00")
    payments.record_payment(
        client_account,
        amount=D("25000.00"),
        method="bank",
        reference="п/п 555",
        payment_date=DAY,
        invoices=[first, second],
    )
    page = _text(client_web.get(f"/invoices/{second.id}"))
    assert "п/п 555 · 500,00 ₽" in page and "п/п 555 · 25 000,00" not in page
    assert "из платежа 25 000,00 ₽; 24 500,00 ₽ — на другие счета" in page


def test_permissions(app, clock, company) -> None:
    support = make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(support.email)
    for url in ("/admin/billing/bank/import", "/admin/billing/bank/unmatched"):
        assert web.get(url).status_code == 403

    viewer = Role(name="Просмотр счетов", permission_names=["billing.view"])
    db.session.add(viewer)
    db.session.commit()
    reader = make_staff(clock, role=viewer)
    web = app.test_client()
    web.sign_in_staff(reader.email)
    assert web.get("/admin/billing/bank/import").status_code == 403
    assert web.get("/admin/billing/bank/unmatched").status_code == 200
    menu = web.get("/admin/section/billing").get_data(as_text=True)
    assert "/admin/billing/bank/unmatched" in menu and "/admin/billing/bank/import" not in menu


def test_a_payment_typed_by_hand_is_linked_by_the_statement_not_recorded_twice(
    russian_staff, company
) -> None:
    invoice = _issued(company, "7000.00")
    url = f"/admin/billing/invoices/{invoice.id}"
    page = _text(russian_staff.get(url))
    assert "Дата платёжного поручения" in page and "ИНН плательщика" in page

    def record(**fields: str):
        data = {"amount": "7000.00", "payment_date": "2026-12-04", "method": "bank", **fields}
        return russian_staff.submit(f"{url}/payments", data, form_page=url)

    bad = record(reference="семьсот один", order_date="03.12.2026")
    assert bad.status_code == 400
    text = _text(bad)
    assert "Введите номер платёжного поручения: только цифры, например 701." in text
    assert "Введите дату в виде ГГГГ-ММ-ДД" in text
    assert 'value="семьсот один"' in text and 'value="03.12.2026"' in text  # nothing lost
    late = _text(record(reference="701", order_date="2026-12-05", payer_inn="77123"))
    assert "Платёжное поручение не может быть датировано позже поступления денег." in late
    assert "ИНН — это 10 цифр (организация) или 12 (физическое лицо, ИП)." in late
    assert db.session.scalar(select(func.count(Payment.id))) == 0

    assert record(reference="№ 701", order_date="2026-12-03").status_code == 302
    typed = db.session.scalars(select(Payment)).one()
    assert typed.reference == "п/п 701 от 03.12.2026"
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status is InvoiceStatus.PAID

    statement = onec_statement(
        incoming("701", "7000.00", f"Оплата по счету {invoice.number}", INN, day="03.12.2026"),
        day="04.12.2026",
    )
    preview_url = _upload(russian_staff, statement).location
    preview = _text(russian_staff.get(preview_url))
    assert f"Уже записано вручную как платёж #{typed.id} (п/п 701 от 03.12.2026)" in preview
    assert "Не сопоставлен" not in preview and "Будет записан" not in preview
    confirmed = russian_staff.submit(f"{preview_url}/confirm", {}, form_page=preview_url)
    after = _text(russian_staff.get(confirmed.location))
    assert f"уже записано вручную как платёж #{typed.id}: связано с ним" in after

    db.session.expire_all()
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert db.session.scalar(select(func.count(UnmatchedPayment.id))) == 0
    assert db.session.get(Invoice, invoice.id).amount_paid == D("7000.00")

    again = record(reference="701", order_date="2026-12-03")
    assert f"Этот платёж уже записан как платёж #{typed.id}" in _text(
        russian_staff.get(again.location)
    )
    assert db.session.scalar(select(func.count(Payment.id))) == 1
