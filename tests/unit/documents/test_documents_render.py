"""Real PDFs read back with pypdf, and the printable HTML: Cyrillic, figures, words, escaping."""

import dataclasses
from datetime import date
from decimal import Decimal as D
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from xhtml2pdf import pisa

from portal.documents import (
    DocumentError,
    DocumentLine,
    InvoiceDocument,
    Party,
    act_html,
    act_pdf,
    invoice_html,
    invoice_pdf,
    render,
)
from portal.documents.examples import BUYER, act_71475, invoice_71475

WORDS_71475 = "Сорок восемь тысяч триста тридцать шесть рублей 00 копеек"
SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def pdf_text(data: bytes) -> str:
    """The text of every page, whitespace collapsed (pypdf splits table cells with newlines)."""
    reader = PdfReader(BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def pdf_fonts(data: bytes) -> set[str]:
    reader = PdfReader(BytesIO(data))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.fixture(scope="module")
def invoice_ru() -> bytes:
    return invoice_pdf(invoice_71475())


@pytest.fixture(scope="module")
def invoice_ru_text(invoice_ru) -> str:
    return pdf_text(invoice_ru)


# Invoice #71475 in Russian -----------------------------------------------------------------


def test_invoice_pdf_is_a_pdf(invoice_ru):
    assert invoice_ru.startswith(b"%PDF-")
    assert len(PdfReader(BytesIO(invoice_ru)).pages) == 1


def test_invoice_pdf_has_buyer_number_total_and_words(invoice_ru_text):
    text = invoice_ru_text
    assert 'ООО "Гостиница Уют"' in text
    assert "Счёт на оплату № 71475 от 12 января 2019 г." in text
    assert "48 336,00" in text
    assert WORDS_71475 in text
    assert "Всего наименований 4, на сумму 48 336,00 руб." in text


def test_invoice_pdf_has_the_lines_and_the_promo(invoice_ru_text):
    text = invoice_ru_text
    for figure in ("22 800,00", "12 825,00", "13 380,00", "-669,00"):
        assert figure in text
    assert "Доступ на пользователя «Стандарт» (01.02.2019 - 31.07.2019)" in text
    assert "Количество пользователей: 5 x Пользователь" in text
    assert "Промо-код: Скидка для референсных клиентов 5%" in text


def test_invoice_pdf_has_bank_details_totals_due_date_purpose_signatures(invoice_ru_text):
    text = invoice_ru_text
    for label in ("Банк получателя", "БИК 044525999", "Сч. № 30101810200000000999"):
        assert label in text
    assert "ИНН 7701000019" in text and "КПП 770101001" in text
    assert "Получатель" in text
    assert "Сч. № 40702810600000012345" in text
    assert "Поставщик (Исполнитель):" in text and "Покупатель (Заказчик):" in text
    assert "Итого: 48 336,00" in text
    assert "Без налога (НДС) -" in text
    assert "Всего к оплате: 48 336,00" in text
    assert "Оплатить не позднее 1 февраля 2019 г." in text
    assert "Оплата по счету № 71475 от 12.01.2019. Сумма 48 336,00 руб., НДС не облагается." in text
    assert "Руководитель" in text and "Иванов И. И." in text
    assert "Бухгалтер" in text and "Петрова А. С." in text
    assert "Предоставлена скидка 669,00 руб." in text


# Cyrillic really renders ----------------------------------------------------------------------


def test_cyrillic_is_drawn_with_embedded_dejavu_not_squares(invoice_ru, invoice_ru_text):
    """Fails if the font fell back to Helvetica: pypdf then reads black squares."""
    assert "Счёт на оплату" in invoice_ru_text
    assert "■" not in invoice_ru_text
    fonts = pdf_fonts(invoice_ru)
    assert any(name.endswith("+DejaVuSans") for name in fonts), fonts
    assert any(name.endswith("+DejaVuSans-Bold") for name in fonts), fonts


def test_xhtml2pdf_default_policy_prints_squares_and_we_raise_instead(tmp_path, monkeypatch):
    """The trap of DESIGN.md §4: a font outside the allowed directories is silently dropped.

    xhtml2pdf's default lets a document read the working directory only: from a checkout the
    package's fonts happen to be inside it, from a server's working directory they are not.
    """
    html = render._render(invoice_71475(), InvoiceDocument, render.font_dir())
    monkeypatch.chdir(tmp_path)
    out = BytesIO()
    pisa.CreatePDF(html, dest=out)
    assert "■" in pdf_text(out.getvalue())
    assert "Счёт на оплату" in pdf_text(invoice_pdf(invoice_71475()))  # ours, same directory
    with pytest.raises(DocumentError, match="font"):
        render._pdf(html, tmp_path)  # a policy that allows another directory than the font's


def test_a_character_dejavu_lacks_does_not_stop_the_invoice():
    doc = invoice_71475(buyer=dataclasses.replace(BUYER, name="ООО «東京» ☃"))
    text = pdf_text(invoice_pdf(doc))
    assert "ООО «" in text and "☃" in text
    assert "Счёт на оплату" in text


def test_fonts_ship_with_the_package_with_their_licence():
    fonts = render.PACKAGE_DIR / "fonts"
    assert render.font_dir() == fonts
    for name in render.FONT_FILES:
        assert (fonts / name).stat().st_size > 500_000
    assert "Bitstream Vera" in (fonts / "LICENSE").read_text(encoding="utf-8")


def test_missing_fonts_fall_back_to_the_system_then_fail(tmp_path, monkeypatch):
    with pytest.raises(DocumentError, match="DejaVu Sans"):
        render.font_dir([tmp_path])
    if not (SYSTEM_DEJAVU / "DejaVuSans.ttf").is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    monkeypatch.setattr(render, "FONT_DIRS", (tmp_path, SYSTEM_DEJAVU))
    data = invoice_pdf(invoice_71475())
    assert "Счёт на оплату" in pdf_text(data)
    assert any(name.endswith("+DejaVuSans") for name in pdf_fonts(data))


# English -----------------------------------------------------------------------------------


def test_english_invoice_labels():
    text = pdf_text(invoice_pdf(invoice_71475("en")))
    assert "Invoice No. 71475 dated 12 January 2019" in text
    assert "Beneficiary's bank" in text and "BIC 044525999" in text
    assert "Supplier:" in text and "Customer:" in text
    assert "Goods (works, services)" in text and "Qty" in text and "Amount" in text
    assert "Subtotal: 48 336,00" in text
    assert "VAT not applicable" in text
    assert "Total due: 48 336,00" in text
    assert "Total items: 4, amount 48 336,00 RUB" in text
    assert "Forty-eight thousand three hundred thirty-six roubles 00 kopecks" in text
    assert "Please pay by 1 February 2019." in text
    assert "Payment for invoice No. 71475 of 12.01.2019." in text
    assert "Director" in text and "Accountant" in text
    assert "Счёт" not in text and "Итого" not in text
    assert 'ООО "Гостиница Уют"' in text  # the client's own name stays as written


# VAT, credit, the payment purpose ------------------------------------------------------------


def vat_invoice(**changes):
    lines = (
        DocumentLine(
            "Виртуальный сервер (01.11.2026 - 30.11.2026)",
            D(2),
            "мес.",
            D("6100.00"),
            D("12200.00"),
            D(22),
            D("2200.00"),
        ),
        DocumentLine(
            "Резервное копирование", D(1), "мес.", D("610.00"), D("610.00"), D(22), D("110.00")
        ),
    )
    values = {
        "number": "2026-000123",
        "issue_date": date(2026, 11, 23),
        "due_date": date(2026, 12, 3),
        "lines": lines,
        "subtotal": D("12810.00"),
        "discount": D("0.00"),
        "tax_total": D("2310.00"),
        "total": D("12810.00"),
        "credit_applied": D("810.00"),
        "amount_due": D("12000.00"),
        "tax_inclusive": True,
    }
    values.update(changes)
    return dataclasses.replace(invoice_71475(), **values)


def test_vat_included_with_credit_applied():
    text = pdf_text(invoice_pdf(vat_invoice()))
    assert "Счёт на оплату № 2026-000123 от 23 ноября 2026 г." in text
    assert "Итого: 12 810,00" in text
    assert "В том числе НДС 22 %: 2 310,00" in text
    assert "Зачтено из кредитного баланса: 810,00" in text
    assert "Всего к оплате: 12 000,00" in text
    assert "на сумму 12 810,00 руб., к оплате 12 000,00 руб." in text
    # the words spell the invoice's sum; the purpose the amount due and the VAT inside it
    assert "Двенадцать тысяч восемьсот десять рублей 00 копеек" in text
    assert "Сумма 12 000,00 руб., в т.ч. НДС 22 % - 2 163,93 руб." in text
    assert "6 100,00" in text and " 2 мес." in text
    assert "Без налога" not in text
    assert "Предоставлена скидка" not in text


def test_net_subtotal_of_a_tax_inclusive_invoice_still_prints_the_line_sum():
    """The invoices service passes portal.billing's subtotal, the sum of the nets."""
    html = invoice_html(vat_invoice(subtotal=D("10500.00")))
    assert "12 810,00" in html and "10 500,00" not in html


def test_vat_added_on_top():
    html = invoice_html(
        vat_invoice(
            subtotal=D("12810.00"),
            total=D("15120.00"),
            credit_applied=D("0.00"),
            amount_due=D("15120.00"),
            tax_inclusive=False,
        )
    )
    assert "НДС 22 %:" in html and "В том числе НДС" not in html
    assert "15 120,00" in html
    assert "Пятнадцать тысяч сто двадцать рублей 00 копеек" in html


def test_payment_purpose_is_printed_as_given():
    purpose = (
        "Оплата по счету 88#72815 от 09.02.19; Плат. диск. простр-на 5 гб + Доступ на 1 польз. "
        "«Стандарт» с 01.03.19 по 31.03.19 Сумма: 860р. 00к. НДС не облагается."
    )
    html = invoice_html(invoice_71475())
    assert "Оплата по счету № 71475 от 12.01.2019." in html
    custom = invoice_html(dataclasses.replace(invoice_71475(), payment_purpose=purpose))
    assert "Оплата по счету 88#72815 от 09.02.19;" in custom
    assert "860р. 00к. НДС не облагается." in custom


# The act -----------------------------------------------------------------------------------


def test_act_pdf_text():
    text = pdf_text(act_pdf(act_71475()))
    assert "Акт № 71475 от 31 июля 2019 г." in text
    assert "Исполнитель:" in text and "Заказчик:" in text
    assert 'ООО "Облачные решения"' in text and 'ООО "Гостиница Уют"' in text
    assert "Основание: Счёт на оплату № 71475" in text
    assert "Период оказания услуг: с 01.02.2019 по 31.07.2019" in text
    assert "Наименование работ, услуг" in text
    assert "Итого: 48 336,00" in text
    assert "Всего оказано услуг 4, на сумму 48 336,00 руб." in text
    assert WORDS_71475 in text
    assert (
        "Вышеперечисленные услуги выполнены полностью и в срок. Заказчик претензий по объему, "
        "качеству и срокам оказания услуг не имеет." in text
    )
    assert "ИСПОЛНИТЕЛЬ" in text and "ЗАКАЗЧИК" in text
    assert "Иванов И. И." in text and "Сидоров П. П." in text
    assert "■" not in text


def test_english_act():
    html = act_html(act_71475("en"))
    assert "Act of Services Rendered No. 71475 dated 31 July 2019" in html
    assert "Service period: from 01.02.2019 to 31.07.2019" in html
    assert "have been rendered in full and on time" in html
    assert "CONTRACTOR" in html and "CUSTOMER" in html


# HTML: standalone, escaped -------------------------------------------------------------------

MALICIOUS = '<script>alert("x")</script><img src="/etc/passwd"> ООО "Рога & Копыта"'


def test_malicious_client_name_is_escaped_in_html():
    doc = invoice_71475(buyer=dataclasses.replace(BUYER, name=MALICIOUS))
    html = invoice_html(doc)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Рога &amp; Копыта" in html


def test_malicious_client_name_is_text_in_the_pdf():
    doc = invoice_71475(buyer=dataclasses.replace(BUYER, name=MALICIOUS))
    text = pdf_text(invoice_pdf(doc))
    assert '<script>alert("x")</script><img src="/etc/passwd">' in text
    assert 'ООО "Рога & Копыта"' in text


def test_printable_html_is_a_standalone_page_without_server_paths():
    html = invoice_html(invoice_71475())
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="ru">' in html
    assert "<title>Счёт на оплату № 71475 от 12 января 2019 г.</title>" in html
    assert "@font-face" not in html and str(render.PACKAGE_DIR) not in html
    assert "48 336,00" in html and WORDS_71475 in html
    assert '<html lang="en">' in invoice_html(invoice_71475("en"))


def test_multiline_notes_keep_their_lines():
    doc = dataclasses.replace(invoice_71475(), notes="Первая строка\n<b>Вторая</b>")
    html = invoice_html(doc)
    assert "Первая строка<br>&lt;b&gt;Вторая&lt;/b&gt;" in html


def test_long_invoice_repeats_the_header_on_every_page():
    line = DocumentLine(
        "Дополнительный пользователь «Стандарт» (01.02.2019 - 31.07.2019)",
        D(1),
        "усл.",
        D("4560.00"),
        D("4560.00"),
        None,
        D("0.00"),
        ("Количество пользователей: 1 x Пользователь",),
    )
    lines = (line,) * 80
    doc = dataclasses.replace(
        invoice_71475(),
        lines=lines,
        subtotal=D("364800.00"),
        discount=D("0.00"),
        total=D("364800.00"),
        amount_due=D("364800.00"),
    )
    reader = PdfReader(BytesIO(invoice_pdf(doc)))
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert "Товары (работы, услуги)" in page.extract_text()
    last = " ".join(reader.pages[-1].extract_text().split())
    assert "Всего наименований 80, на сумму 364 800,00 руб." in last
    assert "Триста шестьдесят четыре тысячи восемьсот рублей 00 копеек" in last


def test_only_documents_of_the_right_kind_are_rendered():
    with pytest.raises(TypeError):
        invoice_html(Party(name="ООО Ромашка"))
    with pytest.raises(TypeError, match="InvoiceDocument"):
        invoice_pdf(act_71475())
    with pytest.raises(TypeError, match="ActDocument"):
        act_html(invoice_71475())
