"""Pure parts of the plugin API: the 1CClientBankExchange parser and the SVG chart."""

from datetime import date
from decimal import Decimal

import pytest

from portal.invoicing.statement_formats import OneCClientBankExchange, StatementFormatError
from portal.platform.reports import Chart, nice_ceiling

STATEMENT = "\r\n".join(
    [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        "РасчСчет=40702810900000000001",
        "ДатаНачала=09.02.2019",
        "ДатаКонца=09.02.2019",
        "СекцияДокумент=Платежное поручение",
        "Номер=88",
        "Дата=09.02.2019",
        "Сумма=860.00",
        "ПлательщикИНН=7701234567",
        "Плательщик=ООО «Ромашка»",
        "ПлательщикСчет=40702810100000000099",
        "ПолучательСчет=40702810900000000001",
        "НазначениеПлатежа=Оплата по счету 88#72815 от 09.02.19; НДС не облагается",
        "ДатаПоступило=11.02.2019",
        "КонецДокумента",
        "КонецФайла",
    ]
)


def test_a_windows_1251_statement_is_read() -> None:
    parser = OneCClientBankExchange()
    data = STATEMENT.encode("cp1251")
    assert parser.recognises(data) and not parser.recognises(b"Date;Amount")
    statement = parser.parse(data)
    assert (statement.account, statement.start) == ("40702810900000000001", date(2019, 2, 9))
    (entry,) = statement.entries
    assert entry.amount == Decimal("860.00") and entry.payer == "ООО «Ромашка»"
    assert entry.purpose.startswith("Оплата по счету 88#72815")
    assert entry.received == date(2019, 2, 11)
    assert entry.reference == "п/п 88 от 09.02.2019 ИНН 7701234567"
    assert parser.parse(STATEMENT.encode("utf-8-sig")) == statement


def test_a_broken_statement_says_where() -> None:
    broken = STATEMENT.replace("Сумма=860.00", "Сумма=восемьсот").encode("cp1251")
    with pytest.raises(StatementFormatError, match="line 7: 'восемьсот' is not an amount"):
        OneCClientBankExchange().parse(broken)


def test_the_chart_is_escaped_svg_with_a_bar_per_value() -> None:
    chart = Chart(
        "bar",
        ["<янв>", "фев"],
        [("Quota", [Decimal("10"), Decimal("15")]), ("Used & more", [Decimal("12.5"), 3])],
        title="Disk <usage>",
    )
    svg = str(chart.svg())
    assert svg.startswith("<svg") and svg.count("<rect") == 4 + 2  # four bars, two legend keys
    assert "&lt;янв&gt;" in svg and "Used &amp; more" in svg and "Disk &lt;usage&gt;" in svg
    assert "<polyline" in str(Chart("line", ["a", "b"], [("x", [1, 2])]).svg())
    with pytest.raises(ValueError, match="has 1 values for 2"):
        Chart("bar", ["a", "b"], [("x", [1])])
    assert [nice_ceiling(v) for v in (0, 0.3, 7, 137, 1000)] == [1, 0.5, 10, 200, 1000]
