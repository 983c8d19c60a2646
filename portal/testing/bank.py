"""Bank statement files for tests, as Russian banks export them."""

from __future__ import annotations

ACCOUNT = "40702810900000000001"


def onec_statement(
    *documents: dict[str, str],
    encoding: str = "cp1251",
    account: str = ACCOUNT,
    day: str = "02.11.2026",
) -> bytes:
    """A 1CClientBankExchange file with one payment order per dict of its fields (windows-1251
    as banks send it; ``encoding="utf-8-sig"`` for a file re-saved as UTF-8)."""
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        f"ДатаНачала={day}",
        f"ДатаКонца={day}",
        f"РасчСчет={account}",
    ]
    for document in documents:
        lines.append("СекцияДокумент=Платежное поручение")
        lines += [f"{key}={value}" for key, value in document.items()]
        lines.append("КонецДокумента")
    lines.append("КонецФайла")
    return "\r\n".join(lines).encode(encoding)


def incoming(
    number: str, amount: str, purpose: str, inn: str = "", **fields: str
) -> dict[str, str]:
    """An incoming payment order's fields (paid to :data:`ACCOUNT`)."""
    return {
        "Номер": number,
        "Дата": fields.pop("day", "02.11.2026"),
        "Сумма": amount,
        "ПлательщикИНН": inn,
        "Плательщик": fields.pop("payer", "ООО «Ромашка»"),
        "ПлательщикСчет": "40702810100000000099",
        "ПолучательСчет": ACCOUNT,
        "НазначениеПлатежа": purpose,
        **fields,
    }
