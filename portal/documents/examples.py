"""Example documents with real figures: invoice #71475 of the 1C-hosting office (docs/DOMAIN).

Used by the tests, by ``bench/documents.py`` and to preview a restyled template
(``docs/documents.md``): three half-year services and a 5 % promo code, 48 336,00 roubles,
without VAT. The parties and the bank are made up; the INNs and the settlement account have
valid check digits, so the example also passes ``portal.accounts.requisites``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.documents.data import ActDocument, DocumentLine, InvoiceDocument, Party

SELLER = Party(
    name='ООО "Облачные решения"',
    inn="7701000019",
    kpp="770101001",
    address="125009, г. Москва, ул. Тверская, д. 1, офис 10",
    bank_name='АО "Образцовый банк", г. Москва',
    bank_bic="044525999",
    bank_account="40702810600000012345",
    bank_corr_account="30101810200000000999",
    signatory="Иванов И. И.",
    accountant="Петрова А. С.",
)

BUYER = Party(
    name='ООО "Гостиница Уют"',
    inn="5401000021",
    kpp="540101001",
    address="630090, г. Новосибирск, Морской проспект, д. 2",
    signatory="Сидоров П. П.",
)

_HALF_YEAR = "(01.02.2019 - 31.07.2019)"


def _line(description: str, amount: str, details: tuple[str, ...] = ()) -> DocumentLine:
    value = Decimal(amount)
    return DocumentLine(
        description=description,
        quantity=Decimal(1),
        unit="усл.",
        unit_price=value,
        amount=value,
        tax_percent=None,
        tax_amount=Decimal("0.00"),
        details=details,
    )


def lines_71475() -> tuple[DocumentLine, ...]:
    """The four lines of invoice #71475: 22 800 + 12 825 + 13 380 - 669 = 48 336,00."""
    return (
        _line(
            f"Доступ на пользователя «Стандарт» {_HALF_YEAR}",
            "22800.00",
            ("Количество пользователей: 5 x Пользователь",),
        ),
        _line(f"Пакет лицензий 1С в аренду {_HALF_YEAR}", "12825.00"),
        _line(f"БИТ:Отель 8. ПРОФ {_HALF_YEAR}", "13380.00"),
        _line("Промо-код: Скидка для референсных клиентов 5%", "-669.00"),
    )


def invoice_71475(language: str = "ru", buyer: Party = BUYER) -> InvoiceDocument:
    """Invoice #71475, issued 12.01.2019, due 01.02.2019, no VAT, no credit applied."""
    return InvoiceDocument(
        number="71475",
        issue_date=date(2019, 1, 12),
        due_date=date(2019, 2, 1),
        seller=SELLER,
        buyer=buyer,
        lines=lines_71475(),
        currency="RUB",
        subtotal=Decimal("48336.00"),
        discount=Decimal("669.00"),
        tax_total=Decimal("0.00"),
        total=Decimal("48336.00"),
        credit_applied=Decimal("0.00"),
        amount_due=Decimal("48336.00"),
        tax_inclusive=False,
        language=language,
    )


def act_71475(language: str = "ru") -> ActDocument:
    """The act closing invoice #71475 at the end of its half-year."""
    return ActDocument(
        number="71475",
        act_date=date(2019, 7, 31),
        period_start=date(2019, 2, 1),
        period_end=date(2019, 7, 31),
        seller=SELLER,
        buyer=BUYER,
        lines=lines_71475(),
        currency="RUB",
        total=Decimal("48336.00"),
        tax_total=Decimal("0.00"),
        tax_inclusive=False,
        language=language,
        invoice_number="71475",
    )
