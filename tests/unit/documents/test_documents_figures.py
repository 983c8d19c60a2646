"""Documents laid out by portal.billing.document_figures: an invoice with any mix of prices with
and without VAT always renders and adds up; a paid invoice states its sum; a correction (credit
note) asks for no payment."""

import dataclasses
import io
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from portal.billing import LineAmounts, LineTax, charge_line, document_figures
from portal.documents import (
    CorrectionDocument,
    DocumentError,
    DocumentLine,
    InvoiceDocument,
    correction_html,
    correction_pdf,
    invoice_html,
    invoice_pdf,
)
from portal.documents.examples import BUYER, SELLER
from portal.documents.formatting import format_money

RUB = "RUB"


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def invoice(items, *, credit=D("0.00"), paid=D("0.00"), paid_date=None, language="ru"):
    figures = document_figures([LineAmounts.of(line) for line in items], RUB)
    return InvoiceDocument(
        number="2026-000123",
        issue_date=date(2026, 11, 23),
        due_date=date(2026, 12, 3),
        seller=SELLER,
        buyer=BUYER,
        lines=tuple(
            DocumentLine.printed(printed, line.description, "шт.")
            for line, printed in zip(items, figures.lines, strict=True)
        ),
        currency=RUB,
        subtotal=figures.net,
        discount=D("0.00"),
        tax_total=figures.tax,
        total=figures.gross,
        credit_applied=credit,
        amount_paid=paid,
        amount_due=figures.gross - credit - paid,
        paid_date=paid_date,
        tax_inclusive=figures.basis.value == "inclusive",
        language=language,
    )


@st.composite
def lines(draw: st.DrawFn):
    price = D(draw(st.integers(1, 5_000_000))).scaleb(-2)
    percent = draw(st.sampled_from([None, D(10), D(22)]))
    tax = LineTax(percent or D(0), inclusive=draw(st.booleans()))
    quantity = draw(st.integers(1, 12))
    return charge_line("Услуга", price, RUB, quantity=quantity, line_tax=tax)


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(lines(), min_size=1, max_size=8), st.sampled_from(["ru", "en"]))
def test_any_mix_of_vat_prices_renders_and_adds_up(items, language) -> None:
    doc = invoice(items, language=language)
    figures = doc.figures
    assert figures.net + figures.tax == figures.gross == doc.total == doc.amount_due
    html = invoice_html(doc)
    assert format_money(doc.total, RUB) in html
    for line in figures.lines:
        assert format_money(line.gross if figures.basis.value == "mixed" else line.amount, RUB) in (
            html
        )


def test_mixed_invoice_pdf_columns_and_totals() -> None:
    items = [
        charge_line("Сервер", D("4000"), RUB, quantity=3, line_tax=LineTax(D(22))),
        charge_line("Настройка", D("3000.00"), RUB, line_tax=LineTax(D(22), inclusive=True)),
        charge_line("Госпошлина", D("500.00"), RUB),
    ]
    text = pdf_text(invoice_pdf(invoice(items)))
    assert "3 шт. 4 000,00 12 000,00 22 % 2 640,00 14 640,00" in text
    assert "1 шт. 3 000,00* 2 459,02 22 % 540,98 3 000,00" in text
    assert "1 шт. 500,00 500,00 без НДС 0,00 500,00" in text
    assert "* Цена включает НДС" in text
    assert "Итого без НДС: 14 959,02 НДС 22 %: 3 180,98 Всего (с учётом НДС): 18 140,00" in text
    assert "Всего к оплате: 18 140,00" in text
    assert "Восемнадцать тысяч сто сорок рублей 00 копеек" in text


def test_a_paid_invoice_states_its_sum_not_zero() -> None:
    items = [charge_line("Хостинг", D("1014.75"), RUB, line_tax=LineTax(D(22), inclusive=True))]
    text = pdf_text(
        invoice_pdf(
            invoice(items, credit=D("14.75"), paid=D("1000.00"), paid_date=date(2026, 11, 25))
        )
    )
    assert "Итого: 1 014,75 В том числе НДС 22 %: 182,99" in text
    assert "Зачтено из кредитного баланса: 14,75 Оплачено: 1 000,00 Всего к оплате: 0,00" in text
    assert "на сумму 1 014,75 руб., к оплате 0,00 руб." in text
    assert "Одна тысяча четырнадцать рублей 75 копеек" in text
    assert "Счёт оплачен 25 ноября 2026 г." in text
    for wrong in ("Ноль рублей", "Оплатить не позднее", "Назначение платежа", "Сумма 0,00"):
        assert wrong not in text


def test_a_partly_paid_invoice_asks_for_the_rest_with_its_vat() -> None:
    items = [charge_line("Хостинг", D("1220.00"), RUB, line_tax=LineTax(D(22), inclusive=True))]
    html = invoice_html(invoice(items, paid=D("610.00")))
    assert "Оплачено:" in html and "Оплатить не позднее" in html
    assert "Сумма 610,00 руб., в т.ч. НДС 22 % - 110,00 руб." in html


def correction(language="ru") -> CorrectionDocument:
    line = charge_line(
        "Корректировка счёта 2026-000001: перерасчёт", D("1000.00"), RUB, line_tax=LineTax(D(22))
    )
    figures = document_figures([LineAmounts.of(line)], RUB)
    return CorrectionDocument(
        number="К-2026-000001",
        issue_date=date(2026, 11, 30),
        original_number="2026-000001",
        original_date=date(2026, 11, 2),
        seller=SELLER,
        buyer=BUYER,
        lines=(DocumentLine.printed(figures.lines[0], line.description, "шт."),),
        currency=RUB,
        tax_total=figures.tax,
        total=figures.gross,
        tax_inclusive=False,
        language=language,
    )


def test_a_correction_asks_for_no_payment() -> None:
    text = pdf_text(correction_pdf(correction()))
    assert "Корректировочный счёт № К-2026-000001 от 30 ноября 2026 г." in text
    assert "К счёту на оплату № 2026-000001 от 2 ноября 2026 г." in text
    assert "Итого: 1 000,00 НДС 22 %: 220,00 Сумма корректировки: 1 220,00" in text
    assert "Одна тысяча двести двадцать рублей 00 копеек" in text
    assert "уменьшается на 1 220,00 руб. Этот документ не является требованием об оплате." in text
    for wrong in ("Минус", "Оплатить", "Назначение платежа", "БИК", "Всего к оплате"):
        assert wrong not in text
    english = correction_html(correction("en"))
    assert "Credit note No. К-2026-000001 dated 30 November 2026" in english
    assert "not a request for payment" in english


def test_a_correction_is_printed_positive() -> None:
    doc = correction()
    negative = dataclasses.replace(
        doc.lines[0], unit_price=D("-1000.00"), amount=D("-1000.00"), tax_amount=D("-220.00")
    )
    with pytest.raises(DocumentError, match="positive"):
        dataclasses.replace(doc, lines=(negative,), tax_total=D("-220.00"), total=D("-1220.00"))
