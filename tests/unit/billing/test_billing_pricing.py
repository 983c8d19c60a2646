"""Price lists, options, personal prices, discount coefficients and promo codes."""

from datetime import date
from decimal import Decimal as D

import pytest

from portal.billing import (
    NO_DISCOUNT,
    AppliedDiscount,
    Component,
    CurrencyMismatch,
    Cycle,
    CyclePrice,
    Discount,
    DropdownOption,
    FreeCycleWithPrice,
    PriceList,
    ProductPrice,
    PromoCode,
    PromoKind,
    QuantityOption,
    charge_line,
    resolve_discount,
)

DISK = QuantityOption(
    "Пакет дискового пространства 5ГБ",
    "пакет",
    PriceList("RUB", {Cycle.SEMI_ANNUAL: CyclePrice(D("360.00"), setup_fee=D("10.00"))}),
)


def test_price_list_per_cycle_with_setup_fees():
    prices = PriceList("RUB", {"monthly": CyclePrice(D("500"), D("1000")), Cycle.ANNUAL: D(5000)})
    assert prices.price(Cycle.MONTHLY) == D(500)
    assert prices.setup_fee(Cycle.MONTHLY) == D(1000)
    assert prices.setup_fee(Cycle.ANNUAL) == 0
    assert set(prices.prices) == {Cycle.MONTHLY, Cycle.ANNUAL}
    with pytest.raises(TypeError):
        prices.prices[Cycle.MONTHLY] = CyclePrice(D(1))


def test_free_cycle_cannot_have_a_price():
    assert PriceList("RUB", {Cycle.FREE: 0}).price(Cycle.FREE) == 0
    with pytest.raises(FreeCycleWithPrice):
        PriceList("RUB", {Cycle.FREE: CyclePrice(0, setup_fee=D(100))})


def test_personal_prices_override_cycle_by_cycle():
    prices = PriceList("RUB", {Cycle.MONTHLY: D(500), Cycle.ANNUAL: D(5000)})
    personal = prices.with_overrides(PriceList("RUB", {Cycle.MONTHLY: D(450)}))
    assert (personal.price(Cycle.MONTHLY), personal.price(Cycle.ANNUAL)) == (D(450), D(5000))


def test_quantity_option_disk_packages():
    selection = DISK.select(3)  # 15 GB
    assert selection.description == "Пакет дискового пространства 5ГБ: 3 x пакет"
    assert selection.prices.price(Cycle.SEMI_ANNUAL) == D("1080.00")
    assert selection.prices.setup_fee(Cycle.SEMI_ANNUAL) == D("30.00")


def test_quantity_option_step_from_minimum():
    seats = QuantityOption(
        "Seats", "seat", PriceList("RUB", {Cycle.MONTHLY: D(1)}), minimum=5, step=5, maximum=50
    )
    assert [seats.select(n).prices.price(Cycle.MONTHLY) for n in (5, 10, 50)] == [5, 10, 50]


def test_dropdown_choices_have_their_own_prices():
    os = DropdownOption(
        "ОС",
        {
            "Linux": PriceList("RUB", {Cycle.MONTHLY: 0}),
            "Windows": PriceList("RUB", {Cycle.MONTHLY: D("900.00")}),
        },
    )
    assert os.select("Windows").prices.price(Cycle.MONTHLY) == D("900.00")
    assert os.select("Linux").description == "ОС: Linux"


def test_product_price_sums_base_and_options_exactly():
    product = ProductPrice(
        PriceList("RUB", {Cycle.SEMI_ANNUAL: CyclePrice(D("0.0001"), D(500))}), (DISK.select(2),)
    )
    assert product.price(Cycle.SEMI_ANNUAL) == D("720.0001")
    assert product.setup_fee(Cycle.SEMI_ANNUAL) == D("520.00")
    assert product.currency == "RUB"
    assert product.details() == ("Пакет дискового пространства 5ГБ: 2 x пакет",)


def test_product_price_refuses_options_in_another_currency():
    with pytest.raises(CurrencyMismatch):
        ProductPrice(PriceList("EUR", {Cycle.SEMI_ANNUAL: D(1)}), (DISK.select(1),))


# Discount coefficients --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coefficient", "amount"),
    [
        (D("0.9"), D("900.00")),
        (0, D("0.00")),
        (2, D("2000.00")),
        (D("0.1111"), D("111.10")),
        (1, D("1000.00")),
    ],
)
def test_coefficients(coefficient, amount):
    line = charge_line("Тариф", D("1000.00"), "RUB", coefficient=coefficient)
    assert line.amount == amount
    assert line.list_amount - line.discount == line.amount


def test_discount_per_component():
    discount = Discount(recurring=D("0.9"), one_time=D("0.5"), usage=D("0.1111"), setup=0)
    assert [discount.coefficient(c) for c in Component] == [
        D("0.9"),
        D("0.5"),
        D("0.1111"),
        D(0),
    ]
    assert discount.coefficient("setup") == 0


def test_discount_scope():
    assert Discount(recurring=D("0.9")).applies_to("anything")
    assert Discount(recurring=D("0.9"), product=7).applies_to(7)
    assert not Discount(recurring=D("0.9"), product=7).applies_to(8)  # e.g. a closed product


REF5 = PromoCode("REF5", PromoKind.PERCENT, D(5), "Скидка для референсных клиентов 5%")


def test_personal_discount_beats_promo_no_stacking():
    applied = resolve_discount(
        "vps",
        Cycle.MONTHLY,
        Component.RECURRING,
        personal=[Discount(recurring=D("0.9"))],
        promo=REF5,
    )
    assert applied == AppliedDiscount(coefficient=D("0.9"))


def test_promo_applies_where_the_personal_discount_does_not_change_the_component():
    applied = resolve_discount(
        "vps", Cycle.MONTHLY, Component.RECURRING, personal=[Discount(setup=0)], promo=REF5
    )
    assert applied == AppliedDiscount(promo=REF5)


def test_product_discount_beats_all_products_discount():
    personal = [Discount(recurring=D("0.9")), Discount(recurring=D("0.95"), product="vps")]
    assert resolve_discount(
        "vps", Cycle.MONTHLY, Component.RECURRING, personal=personal
    ).coefficient == D("0.95")
    assert resolve_discount(
        "mail", Cycle.MONTHLY, Component.RECURRING, personal=personal
    ).coefficient == D("0.9")


def test_voluntary_suspension_gets_no_discount():
    assert (
        resolve_discount(
            "vps",
            Cycle.MONTHLY,
            Component.RECURRING,
            personal=[Discount(recurring=D("0.5"))],
            promo=REF5,
            voluntary_suspension=True,
        )
        is NO_DISCOUNT
    )


def test_promo_first_invoice_only_or_recurring():
    recurring = PromoCode("R", PromoKind.PERCENT, D(10), recurring=True)
    assert (
        resolve_discount("vps", Cycle.MONTHLY, Component.RECURRING, promo=REF5, first_invoice=False)
        is NO_DISCOUNT
    )
    assert (
        resolve_discount(
            "vps", Cycle.MONTHLY, Component.RECURRING, promo=recurring, first_invoice=False
        ).promo
        is recurring
    )


def test_promo_limited_to_products_cycles_components():
    promo = PromoCode(
        "P",
        PromoKind.PERCENT,
        D(10),
        products={"vps"},
        cycles={"annual"},
        components={Component.RECURRING, Component.SETUP},
    )
    assert promo.covers("vps", Cycle.ANNUAL, Component.SETUP)
    assert not promo.covers("vps", Cycle.MONTHLY, Component.RECURRING)
    assert not promo.covers("mail", Cycle.ANNUAL, Component.RECURRING)
    assert not promo.covers("vps", Cycle.ANNUAL, Component.USAGE)
    assert resolve_discount("mail", Cycle.ANNUAL, Component.RECURRING, promo=promo) is NO_DISCOUNT


def test_promo_validity_window_is_inclusive_and_uses_are_counted_by_the_caller():
    promo = PromoCode(
        "P",
        PromoKind.PERCENT,
        D(10),
        valid_from=date(2019, 3, 1),
        valid_to=date(2019, 3, 31),
        max_uses=2,
    )
    for day in (date(2019, 3, 1), date(2019, 3, 31)):
        promo.check(product="x", cycle=Cycle.MONTHLY, on=day, uses=1, client_uses=5)


def test_promo_amounts():
    assert REF5.discount(D("13380.00"), "RUB") == D("669.00")
    assert REF5.discount(D("99.99"), "RUB") == D("5.00")  # 4.9995 -> 5.00
    fixed = PromoCode("F", PromoKind.FIXED, D("500"), currency="RUB")
    assert fixed.discount(D("1000.00"), "RUB") == D("500.00")
    assert fixed.discount(D("300.00"), "RUB") == D("300.00")
    assert PromoCode("J", PromoKind.FIXED, D("500.5")).discount(D(1000), "JPY") == D(501)
    with pytest.raises(CurrencyMismatch):
        fixed.discount(D("1000.00"), "EUR")
