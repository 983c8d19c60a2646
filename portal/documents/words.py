"""Amounts in words, Russian accounting style: whole units in words, minor units in digits.

``48336.00 RUB`` is "Сорок восемь тысяч триста тридцать шесть рублей 00 копеек", as a Russian
invoice or act prints it under the table. num2words spells only the whole units, as a plain
cardinal number: its ``to="currency"`` mode reads an ``int`` as kopecks (``860`` would become
"восемь рублей, шестьдесят копеек"), and its plural and English forms are not the ones our
documents use ("kopeks", "and", commas). The unit names and their plural forms are ours, in
:data:`CURRENCIES`, so the wording on a legal document never changes with a library upgrade.

The amount must already be rounded to the currency's minor units: this module never rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from num2words import num2words

from portal.documents.errors import DocumentError

LANGUAGES = ("ru", "en")


@dataclass(frozen=True, slots=True)
class CurrencyWords:
    """Names of one currency's units in Russian (1, 2-4, 5+ forms) and English (1, many)."""

    ru_major: tuple[str, str, str]
    ru_minor: tuple[str, str, str]
    en_major: tuple[str, str]
    en_minor: tuple[str, str]
    #: Short name after a figure: "48 336,00 руб.".
    ru_short: str
    en_short: str
    #: Russian numerals agree in gender with the unit: "одна гривна", "один рубль".
    ru_feminine: bool = False


CURRENCIES: dict[str, CurrencyWords] = {
    "RUB": CurrencyWords(
        ("рубль", "рубля", "рублей"),
        ("копейка", "копейки", "копеек"),
        ("rouble", "roubles"),
        ("kopeck", "kopecks"),
        "руб.",
        "RUB",
    ),
    "USD": CurrencyWords(
        ("доллар США", "доллара США", "долларов США"),
        ("цент", "цента", "центов"),
        ("US dollar", "US dollars"),
        ("cent", "cents"),
        "долл. США",
        "USD",
    ),
    "EUR": CurrencyWords(
        ("евро", "евро", "евро"),
        ("евроцент", "евроцента", "евроцентов"),
        ("euro", "euros"),
        ("cent", "cents"),
        "евро",
        "EUR",
    ),
    "BYN": CurrencyWords(
        ("белорусский рубль", "белорусских рубля", "белорусских рублей"),
        ("копейка", "копейки", "копеек"),
        ("Belarusian rouble", "Belarusian roubles"),
        ("kopeck", "kopecks"),
        "бел. руб.",
        "BYN",
    ),
    "KZT": CurrencyWords(
        ("тенге", "тенге", "тенге"),
        ("тиын", "тиына", "тиынов"),
        ("tenge", "tenge"),
        ("tiyn", "tiyns"),
        "тенге",
        "KZT",
    ),
    "UAH": CurrencyWords(
        ("гривна", "гривны", "гривен"),
        ("копейка", "копейки", "копеек"),
        ("hryvnia", "hryvnias"),
        ("kopiyka", "kopiykas"),
        "грн.",
        "UAH",
        ru_feminine=True,
    ),
    "CNY": CurrencyWords(
        ("юань", "юаня", "юаней"),
        ("фэнь", "фэня", "фэней"),
        ("yuan", "yuan"),
        ("fen", "fen"),
        "юан.",
        "CNY",
    ),
}

#: Every currency above has 100 minor units.
_MINOR_PLACES = 2


def currency_words(currency: str) -> CurrencyWords:
    """The names of ``currency``'s units; a currency without them cannot go on a document."""
    try:
        return CURRENCIES[currency]
    except (KeyError, TypeError):
        supported = ", ".join(sorted(CURRENCIES))
        raise DocumentError(
            f"Currency {currency!r} has no amount-in-words forms (supported: {supported})."
        ) from None


def currency_label(currency: str, language: str) -> str:
    """Short name after a figure: ``руб.`` in Russian, the ISO code in English."""
    words = currency_words(currency)
    return words.ru_short if check_language(language) == "ru" else words.en_short


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise DocumentError(f"Documents are printed in {' or '.join(LANGUAGES)}, not {language!r}.")
    return language


def russian_plural(number: int, forms: tuple[str, str, str]) -> str:
    """The form for ``number``: 1 рубль, 2 рубля, 5 рублей, 11 рублей, 21 рубль."""
    if 11 <= number % 100 <= 14:
        return forms[2]
    if number % 10 == 1:
        return forms[0]
    if 2 <= number % 10 <= 4:
        return forms[1]
    return forms[2]


def _english_cardinal(number: int) -> str:
    """num2words' British "one hundred and one, ..." without "and" and commas, as cheques do."""
    words = num2words(number, lang="en")
    return words.replace(",", "").replace(" and ", " ")


def _split(amount: Decimal) -> tuple[bool, int, int]:
    """Sign, whole units and minor units of an amount that is already in minor units."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"Amount must be a Decimal, not {type(amount).__name__} {amount!r}.")
    value = Decimal(amount)
    if not value.is_finite():
        raise DocumentError(f"Amount {value} is not a number.")
    cents = value.scaleb(_MINOR_PLACES)
    if cents != cents.to_integral_value():
        raise DocumentError(
            f"Amount {value} has more than {_MINOR_PLACES} decimal places; round it first."
        )
    whole, minor = divmod(abs(int(cents)), 100)
    return value < 0, whole, minor


def amount_in_words(amount: Decimal, currency: str, language: str) -> str:
    """``Decimal("860.00")`` -> "Восемьсот шестьдесят рублей 00 копеек".

    Whole units in words, minor units as two digits, first letter capitalised; English gives
    "Eight hundred sixty roubles 00 kopecks". Floats are refused with ``TypeError`` (0.1 is not
    one tenth); an ``int`` counts whole units, never kopecks.
    """
    negative, whole, minor = _split(amount)
    words = currency_words(currency)
    if check_language(language) == "ru":
        gender = "f" if words.ru_feminine else "m"
        number = num2words(whole, lang="ru", gender=gender)
        major = russian_plural(whole, words.ru_major)
        cents = russian_plural(minor, words.ru_minor)
        minus = "минус "
    else:
        number = _english_cardinal(whole)
        major = words.en_major[0 if whole == 1 else 1]
        cents = words.en_minor[0 if minor == 1 else 1]
        minus = "minus "
    text = f"{minus if negative else ''}{number} {major} {minor:02d} {cents}"
    return text[0].upper() + text[1:]
