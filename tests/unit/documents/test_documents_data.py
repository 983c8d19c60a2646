"""Document values: Decimal only, totals checked against the lines, figures formatted exactly."""

import ast
import dataclasses
import string
import sys
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

import portal.documents as documents
from portal.documents import ActDocument, DocumentError, DocumentLine, InvoiceDocument, Party
from portal.documents.examples import BUYER, SELLER, act_71475, invoice_71475, lines_71475
from portal.documents.formatting import (
    format_money,
    format_price,
    format_quantity,
    long_date,
    short_date,
)
from portal.documents.labels import LABELS


def vat_line(amount="1220.00", tax="220.00", percent=22):
    return DocumentLine("Хостинг", D(1), "мес.", D(amount), D(amount), D(percent), D(tax))


def invoice(**changes):
    return dataclasses.replace(invoice_71475(), **changes)


# Formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("48336.00", "48 336,00"),
        ("48336", "48 336,00"),
        ("0", "0,00"),
        ("-669.00", "-669,00"),
        ("-0.00", "0,00"),
        ("999.9", "999,90"),
        ("1000000.00", "1 000 000,00"),
        ("1234567890.12", "1 234 567 890,12"),
    ],
)
def test_money_is_russian_style(amount, text):
    assert format_money(D(amount), "RUB") == text


def test_money_is_never_rounded_by_the_formatter():
    with pytest.raises(DocumentError, match="round"):
        format_money(D("2.345"), "RUB")
    with pytest.raises(TypeError):
        format_money(2.35, "RUB")


def test_prices_keep_their_own_places_and_quantities_drop_zeros():
    assert format_price(D("4800.0000"), "RUB") == "4 800,00"
    assert format_price(D("0.1111"), "RUB") == "0,1111"
    assert format_price(D("1.5"), "RUB") == "1,50"
    assert format_quantity(D("5.0000")) == "5"
    assert format_quantity(D("2.50")) == "2,5"
    assert format_quantity(D("1E+3")) == "1 000"


def test_dates():
    day = date(2026, 11, 23)
    assert long_date(day, "ru") == "23 ноября 2026 г."
    assert long_date(date(2019, 2, 1), "en") == "1 February 2019"
    assert short_date(date(2019, 2, 1)) == "01.02.2019"


def test_both_languages_have_the_same_labels():
    assert set(LABELS["ru"]) == set(LABELS["en"])
    for key, text in LABELS["ru"].items():
        assert _fields(text) == _fields(LABELS["en"][key]), key


def _fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# The values ---------------------------------------------------------------------------------


def test_the_example_invoice_adds_up():
    doc = invoice_71475()
    assert sum(line.amount for line in doc.lines) == doc.subtotal == D("48336.00")
    assert doc.amount_due == D("48336.00")
    assert isinstance(doc.lines, tuple)
    assert act_71475().total == D("48336.00")


def test_values_are_frozen():
    doc = invoice_71475()
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.total = D(0)


def test_lists_become_tuples_and_ints_become_decimals():
    line = DocumentLine("Услуга", 2, "шт", D("10.00"), D("20.00"), None, 0, details=["a", "b"])
    assert line.quantity == D(2) and isinstance(line.quantity, D)
    assert line.details == ("a", "b")
    doc = invoice(lines=list(lines_71475()))
    assert isinstance(doc.lines, tuple)


@pytest.mark.parametrize("field", ["quantity", "unit_price", "amount", "tax_amount"])
def test_a_float_in_a_line_is_refused(field):
    values = {
        "description": "Услуга",
        "quantity": D(1),
        "unit": "шт",
        "unit_price": D("10.00"),
        "amount": D("10.00"),
        "tax_percent": None,
        "tax_amount": D("0.00"),
    }
    values[field] = 10.0
    with pytest.raises(TypeError, match="Decimal"):
        DocumentLine(**values)


def test_a_float_total_is_refused():
    with pytest.raises(TypeError):
        invoice(total=48336.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subtotal": D("49005.00")}, "sum of the line amounts"),
        ({"total": D("48335.00")}, "The total"),
        ({"tax_total": D("1.00")}, "tax"),
        ({"amount_due": D("48000.00")}, "credit applied"),
        ({"credit_applied": D("-1.00"), "amount_due": D("48337.00")}, "negative"),
        ({"discount": D("-1.00")}, "negative"),
        ({"subtotal": D("48336.001")}, "decimals"),
        ({"lines": ()}, "no lines"),
        ({"language": "de"}, "ru or en"),
        ({"currency": "XYZ"}, "XYZ"),
        ({"number": " "}, "number"),
    ],
)
def test_an_invoice_that_does_not_add_up_is_refused(changes, message):
    with pytest.raises(DocumentError, match=message):
        invoice(**changes)


def test_tax_exclusive_total_is_subtotal_plus_tax():
    line = DocumentLine("Хостинг", D(1), "мес.", D("1000.00"), D("1000.00"), D(22), D("220.00"))
    doc = invoice(
        lines=(line,),
        subtotal=D("1000.00"),
        discount=D(0),
        tax_total=D("220.00"),
        total=D("1220.00"),
        amount_due=D("1220.00"),
    )
    assert doc.total == D("1220.00")
    with pytest.raises(DocumentError, match="plus the tax"):
        dataclasses.replace(doc, total=D("1000.00"), amount_due=D("1000.00"))
    with pytest.raises(DocumentError, match="include the tax"):
        dataclasses.replace(doc, tax_inclusive=True)


def test_tax_without_a_rate_is_refused():
    with pytest.raises(DocumentError, match="no tax rate"):
        DocumentLine("Хостинг", D(1), "мес.", D("10.00"), D("10.00"), None, D("1.00"))


def test_act_checks_its_period_and_total():
    with pytest.raises(DocumentError, match="ends before"):
        dataclasses.replace(act_71475(), period_end=date(2019, 1, 31))
    with pytest.raises(DocumentError, match="The total"):
        dataclasses.replace(act_71475(), total=D("48000.00"))
    act = ActDocument(
        number="1",
        act_date=date(2026, 1, 31),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        seller=SELLER,
        buyer=BUYER,
        lines=(vat_line(),),
        currency="RUB",
        total=D("1220.00"),
        tax_total=D("220.00"),
        tax_inclusive=True,
    )
    assert act.language == "ru"


def test_party_needs_a_name_and_text_fields():
    with pytest.raises(DocumentError):
        Party(name="")
    with pytest.raises(TypeError):
        Party(name="ООО Ромашка", inn=7701000019)


# The package --------------------------------------------------------------------------------

PACKAGE = Path(documents.__file__).parent
ALLOWED_THIRD_PARTY = {"jinja2", "xhtml2pdf", "num2words"}


def test_the_package_needs_no_app_no_database_no_request():
    """Documents render in a job or the CLI: only the billing library and the renderers."""
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: use absolute imports"
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top == "portal":
                    assert module.startswith(("portal.documents", "portal.billing")), module
                else:
                    assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, module


def test_public_api():
    for name in (
        "Party",
        "DocumentLine",
        "InvoiceDocument",
        "ActDocument",
        "amount_in_words",
        "invoice_html",
        "invoice_pdf",
        "act_html",
        "act_pdf",
    ):
        assert name in documents.__all__
    assert InvoiceDocument.__dataclass_params__.frozen


def test_tax_inclusive_subtotal_may_be_the_net_sum():
    """portal.billing's draft subtotal is the sum of nets; the document accepts it too."""
    gross = dataclasses.replace(
        invoice_71475(),
        lines=(vat_line(), vat_line()),
        subtotal=D("2440.00"),
        discount=D(0),
        tax_total=D("440.00"),
        total=D("2440.00"),
        amount_due=D("2440.00"),
        tax_inclusive=True,
    )
    net = dataclasses.replace(gross, subtotal=D("2000.00"))
    assert net.subtotal == D("2000.00")
    with pytest.raises(DocumentError, match="subtotal plus the tax gives 2 880,00"):
        dataclasses.replace(gross, subtotal=D("2000.00"), tax_inclusive=False, total=D("2440.00"))
    with pytest.raises(DocumentError, match="sum of the line amounts"):
        dataclasses.replace(gross, subtotal=D("2001.00"))
