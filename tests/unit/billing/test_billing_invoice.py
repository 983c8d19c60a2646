"""Invoice drafts: lines rounded once, promo lines, totals equal to the lines, credit applied."""

from datetime import date
from decimal import Decimal as D

import pytest

from portal.billing import (
    AmountPrecision,
    Component,
    CurrencyMismatch,
    Cycle,
    DayCount,
    LineKind,
    LineTax,
    NegativePrice,
    Period,
    PriceList,
    ProductPrice,
    PromoCode,
    PromoKind,
    QuantityOption,
    charge_line,
    draft_invoice,
    promo_line,
)

HALF = Period(date(2019, 2, 1), date(2019, 8, 1))
REF5 = PromoCode("REF5", PromoKind.PERCENT, D(5), "Скидка для референсных клиентов 5%")


def invoice_71475():
    users = QuantityOption(
        "Количество пользователей",
        "Пользователь",
        PriceList("RUB", {Cycle.SEMI_ANNUAL: D("4560.00")}),
    )
    access = ProductPrice(PriceList("RUB", {Cycle.SEMI_ANNUAL: 0}), (users.select(5),))
    hotel = charge_line("БИТ:Отель 8. ПРОФ", D("13380.00"), "RUB", period=HALF)
    return draft_invoice(
        [
            charge_line(
                "Доступ на пользователя «Стандарт»",
                access.price(Cycle.SEMI_ANNUAL),
                "RUB",
                period=HALF,
                details=access.details(),
            ),
            charge_line("Пакет лицензий 1С в аренду", D("12825.00"), "RUB", period=HALF),
            hotel,
            promo_line(REF5, hotel),
        ],
        "RUB",
    )


def test_invoice_71475():
    invoice = invoice_71475()
    assert [(line.description, line.total) for line in invoice.lines] == [
        ("Доступ на пользователя «Стандарт» (01.02.2019 - 31.07.2019)", D("22800.00")),
        ("Пакет лицензий 1С в аренду (01.02.2019 - 31.07.2019)", D("12825.00")),
        ("БИТ:Отель 8. ПРОФ (01.02.2019 - 31.07.2019)", D("13380.00")),
        ("Промо-код: Скидка для референсных клиентов 5%", D("-669.00")),
    ]
    assert invoice.lines[0].details == ("Количество пользователей: 5 x Пользователь",)
    assert invoice.lines[3].kind is LineKind.PROMO
    assert (invoice.subtotal, invoice.discount, invoice.tax, invoice.total) == (
        D("48336.00"),
        D("669.00"),
        D("0.00"),
        D("48336.00"),
    )
    assert (invoice.credit_applied, invoice.due) == (D("0.00"), D("48336.00"))


def test_promo_line_is_taxed_like_its_line():
    line = charge_line("Хостинг", D("1220.00"), "RUB", line_tax=LineTax(D(22), inclusive=True))
    promo = promo_line(REF5, line, label="Promo {code}: {description}")
    assert promo.description == "Promo REF5: Скидка для референсных клиентов 5%"
    assert (promo.amount, promo.net, promo.tax, promo.total) == (
        D("-61.00"),
        D("-50.00"),
        D("-11.00"),
        D("-61.00"),
    )
    assert promo.line_tax == line.line_tax
    assert (promo.list_amount, promo.discount) == (D("0.00"), D("61.00"))


def test_prorated_line_is_rounded_once():
    line = charge_line(
        "Пакет дискового пространства 5ГБ",
        D("360.00"),
        "RUB",
        quantity=3,
        period=Period(date(2019, 2, 8), HALF.end),
        full_period=HALF,
        coefficient=D("0.9"),
        day_count=DayCount.ACTUAL,
    )
    # 1080 x 0.9 x 174/181 = 934.4088... -> 934.41, one rounding for the whole line
    assert line.amount == D("934.41")
    assert line.list_amount == D("1038.23")
    assert line.discount == D("103.82")
    # 1038.23 / 3 is not a whole number of kopecks: one unit of the whole prorated amount,
    # the quantity and the full price in a sub-line, the days in the description
    assert (line.quantity, line.unit_price) == (1, D("1038.23"))
    assert line.quantity * line.unit_price == line.list_amount
    assert line.details == ("3 × 360,00 за полный период",)
    assert line.description.endswith("(08.02.2019 - 31.07.2019, 174 из 181 дн.)")


def test_a_prorated_line_prints_its_prorated_price_and_its_days():
    # "1 × 360,00 = 346,08" did not add up; the line now reads "1 × 346,08 = 346,08"
    line = charge_line(
        "Пакет дискового пространства 5ГБ",
        D("360.00"),
        "RUB",
        period=Period(date(2019, 2, 8), HALF.end),
        full_period=HALF,
    )
    assert (line.quantity, line.unit_price, line.amount) == (1, D("346.08"), D("346.08"))
    assert line.description == (
        "Пакет дискового пространства 5ГБ (08.02.2019 - 31.07.2019, 174 из 181 дн.)"
    )
    assert line.details == ()
    # a whole period is not prorated: the full price, the period and no days
    whole = charge_line("Диск", D("360.00"), "RUB", period=HALF, full_period=HALF)
    assert (whole.unit_price, whole.description) == (D("360.00"), "Диск (01.02.2019 - 31.07.2019)")


def test_usage_line_with_four_decimal_rate():
    line = charge_line("Минуты", D("1.2345"), "RUB", quantity=D("127.5"), component=Component.USAGE)
    assert line.amount == D("157.40")  # 157.39875
    assert line.component is Component.USAGE


def test_credit_is_applied_up_to_the_total():
    lines = [charge_line("A", D("100.00"), "RUB")]
    assert draft_invoice(lines, "RUB", credit_available=D("30.00")).due == D("70.00")
    full = draft_invoice(lines, "RUB", credit_available=D("500.00"))
    assert (full.credit_applied, full.due) == (D("100.00"), D("0.00"))
    empty = draft_invoice([], "RUB", credit_available=5)
    assert (empty.total, empty.credit_applied, empty.due) == (D("0.00"), D("0.00"), D("0.00"))


def test_credit_must_be_a_non_negative_amount_in_minor_units():
    with pytest.raises(NegativePrice):
        draft_invoice([], "RUB", credit_available=D("-1.00"))
    with pytest.raises(AmountPrecision):
        draft_invoice([], "RUB", credit_available=D("0.001"))


def test_lines_in_another_currency_are_refused():
    with pytest.raises(CurrencyMismatch):
        draft_invoice([charge_line("A", D(1), "EUR")], "RUB")


def test_jpy_invoice():
    draft = draft_invoice(
        [charge_line("A", D("333.5"), "JPY", quantity=3, line_tax=LineTax(10))], "JPY"
    )
    assert (draft.subtotal, draft.tax, draft.total) == (D(1001), D(100), D(1101))
