"""The built-in 1CClientBankExchange parser on real-looking files: windows-1251 as banks send
them, the same file re-saved as UTF-8, outgoing orders left out, and broken files refused whole
with where and why."""

from datetime import date
from decimal import Decimal

import pytest

from portal.invoicing.statement_formats import OneCClientBankExchange, StatementFormatError
from portal.testing.bank import ACCOUNT, incoming, onec_statement

ORDERS = (
    incoming("555", "25000.00", "Оплата по счету 2026-000123 от 01.11.2026", "7701234567"),
    incoming("556", "1 220,50", "Пополнение баланса", "", ДатаПоступило="03.11.2026"),
    {
        "Номер": "15",
        "Дата": "02.11.2026",
        "Сумма": "100.00",
        "ПлательщикСчет": ACCOUNT,  # our own outgoing payment
        "НазначениеПлатежа": "Аренда",
    },
)


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig"])
def test_the_same_statement_in_windows_1251_and_utf_8(encoding: str) -> None:
    data = onec_statement(*ORDERS, encoding=encoding)
    parser = OneCClientBankExchange()
    assert parser.recognises(data)

    statement = parser.parse(data)

    assert (statement.account, statement.start, statement.end) == (
        ACCOUNT,
        date(2026, 11, 2),
        date(2026, 11, 2),
    )
    first, second = statement.entries
    assert (first.number, first.amount, first.payer, first.payer_inn) == (
        "555",
        Decimal("25000.00"),
        "ООО «Ромашка»",
        "7701234567",
    )
    assert first.purpose == "Оплата по счету 2026-000123 от 01.11.2026"
    assert first.reference == "п/п 555 от 02.11.2026 ИНН 7701234567"
    assert (second.amount, second.received, second.reference) == (
        Decimal("1220.50"),
        date(2026, 11, 3),
        "п/п 556 от 02.11.2026",
    )


def test_windows_1251_bytes_are_not_read_as_utf_8() -> None:
    data = onec_statement(*ORDERS)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert OneCClientBankExchange().parse(data).entries[0].payer == "ООО «Ромашка»"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("Сумма", "двадцать", "amount"), ("Сумма", "-5.00", "amount"), ("Дата", "31.02.2026", "date")],
)
def test_a_broken_order_says_which_line_and_what(field: str, value: str, expected: str) -> None:
    order = {**ORDERS[0], field: value}
    with pytest.raises(StatementFormatError) as caught:
        OneCClientBankExchange().parse(onec_statement(ORDERS[1], order))
    assert caught.value.expected == expected and caught.value.value == value
    assert caught.value.line == 18  # 6 header lines, 11 of the first order, then this one


def test_an_order_without_a_number_is_refused() -> None:
    order = {key: value for key, value in ORDERS[0].items() if key != "Номер"}
    with pytest.raises(StatementFormatError) as caught:
        OneCClientBankExchange().parse(onec_statement(order))
    assert caught.value.expected == "number"


def test_a_file_cut_short_is_refused_rather_than_read_in_part() -> None:
    data = onec_statement(*ORDERS)
    cut = data[: data.index("КонецДокумента".encode("cp1251"))]
    with pytest.raises(StatementFormatError) as caught:
        OneCClientBankExchange().parse(cut)
    assert caught.value.expected == "end"
    assert not OneCClientBankExchange().recognises(b"%PDF-1.4")
