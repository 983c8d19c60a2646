"""document_figures: one price basis per document, VAT per line, and figures that add up for any
mix of prices with and without VAT (hypothesis)."""

import dataclasses
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.billing import (
    InconsistentLine,
    InvoiceLine,
    LineAmounts,
    LineTax,
    PriceBasis,
    apply_tax,
    charge_line,
    document_figures,
    draft_invoice,
    round_money,
)

RUB = "RUB"
examples = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def negative(line: InvoiceLine) -> InvoiceLine:
    """A discount or correction line, as the invoices service makes it: turned round whole."""
    return dataclasses.replace(
        line,
        unit_price=-line.unit_price,
        list_amount=-line.list_amount,
        amount=-line.amount,
        net=-line.net,
        tax=-line.tax,
        total=-line.total,
    )


@st.composite
def lines(draw: st.DrawFn) -> InvoiceLine:
    places = draw(st.sampled_from([2, 4]))
    price = D(draw(st.integers(1, 10_000_000))).scaleb(-places)
    quantity = D(draw(st.integers(1, 40)))
    percent = draw(st.sampled_from([None, D(0), D(10), D(20), D(22)]))
    tax = LineTax(percent or D(0), inclusive=draw(st.booleans()))
    line = charge_line("Услуга", price, RUB, quantity=quantity, line_tax=tax)
    return negative(line) if draw(st.integers(0, 5)) == 0 else line


def amounts(items):
    return [LineAmounts.of(line) for line in items]


@examples
@given(st.lists(lines(), min_size=1, max_size=12))
def test_figures_add_up_for_any_mix(items) -> None:
    figures = document_figures(amounts(items), RUB)
    draft = draft_invoice(items, RUB)
    assert figures.net + figures.tax == figures.gross == draft.total
    assert (figures.net, figures.tax) == (draft.subtotal, draft.tax)
    assert sum((tax for _, tax in figures.tax_by_rate), D(0)) == figures.tax
    inclusive = {line.line_tax.inclusive for line in items if line.line_tax.percent}
    expected = {
        frozenset(): PriceBasis.EXCLUSIVE,
        frozenset({False}): PriceBasis.EXCLUSIVE,
        frozenset({True}): PriceBasis.INCLUSIVE,
        frozenset({True, False}): PriceBasis.MIXED,
    }[frozenset(inclusive)]
    assert figures.basis is expected
    printed_sum = figures.gross if expected is PriceBasis.INCLUSIVE else figures.net
    assert figures.printed_sum == printed_sum
    for line, printed in zip(items, figures.lines, strict=True):
        # quantity × price is the amount printed next to it, on every line, in every basis
        assert round_money(printed.quantity * printed.unit_price, RUB) == printed.amount
        assert printed.net + printed.tax == printed.gross
        as_sold = printed.gross if printed.price_includes_tax else printed.net
        assert printed.amount == as_sold
        # VAT per line, rounded once to kopecks (never recomputed on the document's total)
        assert printed.tax == apply_tax(line.amount, line.line_tax, RUB).tax
        if expected is not PriceBasis.MIXED and line.line_tax.percent:
            assert printed.price_includes_tax is (expected is PriceBasis.INCLUSIVE)
        assert printed.gross.as_tuple().exponent == -2


@examples
@given(st.lists(lines(), min_size=1, max_size=8))
def test_a_correction_prints_the_same_figures_turned_round(items) -> None:
    figures = document_figures(amounts(items), RUB)
    turned = figures.negated()
    assert (turned.net, turned.tax, turned.gross) == (-figures.net, -figures.tax, -figures.gross)
    assert turned.basis is figures.basis
    for before, after in zip(figures.lines, turned.lines, strict=True):
        assert after.amount == -before.amount and after.gross == -before.gross
        assert round_money(after.quantity * after.unit_price, RUB) == after.amount
        assert after.quantity > 0


def test_the_mixed_invoice_users_could_not_print() -> None:
    """3 × 4 000,00 + 22 % and a 3 000,00 manual line whose price includes 22 %."""
    items = [
        charge_line("Сервер", D("4000"), RUB, quantity=3, line_tax=LineTax(D(22))),
        charge_line("Настройка", D("3000.00"), RUB, line_tax=LineTax(D(22), inclusive=True)),
    ]
    figures = document_figures(amounts(items), RUB)
    assert figures.basis is PriceBasis.MIXED
    first, second = figures.lines
    assert (first.amount, first.net, first.tax, first.gross) == (
        D("12000.00"),
        D("12000.00"),
        D("2640.00"),
        D("14640.00"),
    )
    assert (second.amount, second.net, second.tax, second.gross) == (
        D("3000.00"),
        D("2459.02"),
        D("540.98"),
        D("3000.00"),
    )
    assert not first.price_includes_tax and second.price_includes_tax
    assert (figures.net, figures.tax, figures.gross) == (D("14459.02"), D("3180.98"), D("17640.00"))
    assert figures.tax_by_rate == ((D(22), D("3180.98")),)


def test_lines_without_vat_fit_any_basis() -> None:
    fee = charge_line("Госпошлина", D("500.00"), RUB)
    vat = charge_line("Хостинг", D("1220.00"), RUB, line_tax=LineTax(D(22), inclusive=True))
    figures = document_figures(amounts([fee, vat]), RUB)
    assert figures.basis is PriceBasis.INCLUSIVE
    assert figures.lines[0].tax_percent is None and not figures.lines[0].price_includes_tax
    assert figures.printed_sum == D("1720.00") and figures.tax == D("220.00")
    assert document_figures([], RUB).gross == D("0.00")


def test_a_line_that_does_not_add_up_is_refused() -> None:
    good = LineAmounts.of(charge_line("Х", D("100.00"), RUB, line_tax=LineTax(D(22))))
    for wrong in (
        dataclasses.replace(good, total=D("121.00")),
        dataclasses.replace(good, amount=D("122.00")),
        dataclasses.replace(good, tax_percent=None),
    ):
        with pytest.raises(InconsistentLine):
            document_figures([wrong], RUB)
