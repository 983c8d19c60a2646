"""Amounts in words: Russian accounting style, kopecks in digits, never an int read as kopecks."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.documents import DocumentError, amount_in_words
from portal.documents.words import CURRENCIES, russian_plural


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.00", "Ноль рублей 00 копеек"),
        ("1.01", "Один рубль 01 копейка"),
        ("2.02", "Два рубля 02 копейки"),
        ("5.05", "Пять рублей 05 копеек"),
        ("11.11", "Одиннадцать рублей 11 копеек"),
        ("21.21", "Двадцать один рубль 21 копейка"),
        ("112.14", "Сто двенадцать рублей 14 копеек"),
        ("860.00", "Восемьсот шестьдесят рублей 00 копеек"),
        ("860", "Восемьсот шестьдесят рублей 00 копеек"),
        ("860.5", "Восемьсот шестьдесят рублей 50 копеек"),
        ("48336.00", "Сорок восемь тысяч триста тридцать шесть рублей 00 копеек"),
        ("1000000.00", "Один миллион рублей 00 копеек"),
        ("1000001.99", "Один миллион один рубль 99 копеек"),
        ("2000000000.00", "Два миллиарда рублей 00 копеек"),
    ],
)
def test_russian_roubles(amount, words):
    assert amount_in_words(D(amount), "RUB", "ru") == words


def test_an_int_is_whole_roubles_not_kopecks():
    """num2words' currency mode reads 860 as 8 roubles 60 kopecks; we never do."""
    assert amount_in_words(860, "RUB", "ru") == "Восемьсот шестьдесят рублей 00 копеек"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.00", "Zero roubles 00 kopecks"),
        ("1.01", "One rouble 01 kopeck"),
        ("21.21", "Twenty-one roubles 21 kopecks"),
        ("101.00", "One hundred one roubles 00 kopecks"),
        ("48336.00", "Forty-eight thousand three hundred thirty-six roubles 00 kopecks"),
        ("1000000.00", "One million roubles 00 kopecks"),
    ],
)
def test_english_roubles(amount, words):
    assert amount_in_words(D(amount), "RUB", "en") == words


@pytest.mark.parametrize(
    ("amount", "currency", "language", "words"),
    [
        ("1.01", "USD", "ru", "Один доллар США 01 цент"),
        ("3.00", "USD", "ru", "Три доллара США 00 центов"),
        ("25.50", "USD", "en", "Twenty-five US dollars 50 cents"),
        ("21.00", "EUR", "ru", "Двадцать один евро 00 евроцентов"),
        ("2.01", "EUR", "en", "Two euros 01 cent"),
        ("21.00", "UAH", "ru", "Двадцать одна гривна 00 копеек"),
        ("2.00", "UAH", "ru", "Две гривны 00 копеек"),
        ("1000.00", "KZT", "ru", "Одна тысяча тенге 00 тиынов"),
    ],
)
def test_other_currencies(amount, currency, language, words):
    assert amount_in_words(D(amount), currency, language) == words


def test_negative_amount_says_minus():
    words = "Минус шестьсот шестьдесят девять рублей 00 копеек"
    assert amount_in_words(D("-669.00"), "RUB", "ru") == words
    assert amount_in_words(D("-0.00"), "RUB", "en") == "Zero roubles 00 kopecks"


@pytest.mark.parametrize("amount", [860.0, 0.1, "860.00", None, True])
def test_anything_but_decimal_or_int_is_refused(amount):
    with pytest.raises(TypeError):
        amount_in_words(amount, "RUB", "ru")


@pytest.mark.parametrize("amount", ["1.005", "0.001", "NaN", "Infinity"])
def test_amount_that_would_need_rounding_is_refused(amount):
    with pytest.raises(DocumentError):
        amount_in_words(D(amount), "RUB", "ru")


def test_unknown_currency_and_language_are_refused():
    with pytest.raises(DocumentError, match="RUB"):
        amount_in_words(D(1), "XYZ", "ru")
    with pytest.raises(DocumentError):
        amount_in_words(D(1), "RUB", "de")


@pytest.mark.parametrize(
    ("number", "form"),
    [
        (0, "рублей"),
        (1, "рубль"),
        (2, "рубля"),
        (4, "рубля"),
        (5, "рублей"),
        (11, "рублей"),
        (12, "рублей"),
        (14, "рублей"),
        (21, "рубль"),
        (22, "рубля"),
        (111, "рублей"),
        (101, "рубль"),
        (1_000_000, "рублей"),
    ],
)
def test_russian_plural(number, form):
    assert russian_plural(number, CURRENCIES["RUB"].ru_major) == form


@given(
    whole=st.integers(min_value=0, max_value=10**12),
    kopecks=st.integers(min_value=0, max_value=99),
    currency=st.sampled_from(sorted(CURRENCIES)),
    language=st.sampled_from(["ru", "en"]),
)
def test_words_end_with_the_minor_units_in_digits(whole, kopecks, currency, language):
    amount = D(whole) + D(kopecks) / 100
    words = amount_in_words(amount, currency, language)
    names = CURRENCIES[currency]
    assert words[0].isupper()
    head, minor, unit = words.rsplit(" ", 2) if language == "en" else _split_ru(words, names)
    assert minor == f"{kopecks:02d}"
    assert not any(char.isdigit() for char in head)
    if language == "ru":
        assert unit == russian_plural(kopecks, names.ru_minor)


def _split_ru(words, names):
    """Russian minor unit names are one word; the digits come right before them."""
    head, minor, unit = words.rsplit(" ", 2)
    assert unit in names.ru_minor
    return head, minor, unit
