"""The reconciliation statement (акт сверки): figures that must add up, and a real PDF read
back with pypdf (both sides of the table, the balances, the closing sentence in words)."""

from datetime import date
from decimal import Decimal as D
from io import BytesIO

import pytest
from pypdf import PdfReader

from portal.documents import (
    DocumentError,
    Party,
    ReconciliationDocument,
    ReconciliationRow,
    reconciliation_html,
    reconciliation_pdf,
)

SELLER = Party(name="ООО «Облако»", inn="7707083893", kpp="773601001", signatory="Иванов И. И.")
BUYER = Party(name="ООО «Ромашка»", inn="7701234567", kpp="770101001")
ROWS = (
    ReconciliationRow(date(2026, 3, 1), "Реализация (счёт № 2026-000001)", D("48336.00"), D(0)),
    ReconciliationRow(date(2026, 3, 2), "Оплата (п/п 101)", D(0), D("40000.00")),
)


def _doc(closing: str = "7836.00", opening: str = "-500.00", **changes) -> ReconciliationDocument:
    values = {
        "seller": SELLER,
        "buyer": BUYER,
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 11, 2),
        "currency": "RUB",
        "opening": D(opening),
        "rows": ROWS,
        "debit_total": D("48336.00"),
        "credit_total": D("40000.00"),
        "closing": D(closing),
    }
    return ReconciliationDocument(**{**values, **changes})


def _text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().replace("\xa0", " ").split())
        for page in PdfReader(BytesIO(data)).pages
    )


def test_the_figures_must_add_up() -> None:
    with pytest.raises(DocumentError, match="closing balance"):
        _doc(closing="7836.01")
    with pytest.raises(DocumentError, match="debit turnover"):
        _doc(debit_total=D("1.00"))
    with pytest.raises(DocumentError, match="never negative"):
        ReconciliationRow(date(2026, 1, 1), "X", D("-1.00"), D(0))
    with pytest.raises(DocumentError, match="ends before"):
        _doc(period_end=date(2025, 1, 1))


def test_pdf_in_russian_names_who_owes_whom() -> None:
    text = _text(reconciliation_pdf(_doc()))
    for expected in (
        "Акт сверки взаимных расчётов",
        "за период с 01.01.2026 по 02.11.2026",
        "ИНН 7707083893",
        "КПП 770101001",
        "По данным ООО «Облако», руб.",
        "По данным ООО «Ромашка», руб.",
        "Сальдо начальное",
        "500,00",
        "Обороты за период 48 336,00 40 000,00",
        "Сальдо конечное 7 836,00",
        "По данным ООО «Облако» на 02.11.2026 задолженность в пользу ООО «Облако» составляет "
        "7 836,00 руб. (Семь тысяч восемьсот тридцать шесть рублей 00 копеек).",
        "Иванов И. И.",
        "Главный бухгалтер",
    ):
        assert expected in text, expected
    advance = _text(reconciliation_pdf(_doc(closing="-8836.00", opening="-17172.00")))
    assert "задолженность в пользу ООО «Ромашка» составляет 8 836,00 руб." in advance


def test_no_debt_and_english() -> None:
    settled = _doc(closing="0.00", opening="-8336.00")
    assert "задолженность отсутствует" in _text(reconciliation_pdf(settled))
    english = _text(reconciliation_pdf(_doc(language="en")))
    assert "Reconciliation Statement" in english and "Seven thousand" in english


def test_html_escapes_names() -> None:
    html = reconciliation_html(_doc(buyer=Party(name="<b>ООО</b>")))
    assert "&lt;b&gt;ООО&lt;/b&gt;" in html and "<b>ООО</b>" not in html
