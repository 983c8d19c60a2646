"""Russian legal and bank details: INN, KPP, BIC and bank accounts.

INN check digits come from python-stdnum. KPP has no check digit: it is validated by its format
(4 digits of the tax office, 2 characters of the reason code — digits or, since 2019, capital
Latin letters — and a 3-digit serial). The bank account control key is the Central Bank's
algorithm (weights 7-1-3 over the last three BIC digits and the account), which no maintained
library ships.
"""

from __future__ import annotations

import enum
import re

from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.ru import inn as stdnum_inn


class LegalType(enum.StrEnum):
    INDIVIDUAL = "individual"
    SOLE_PROPRIETOR = "sole_proprietor"
    LEGAL_ENTITY = "legal_entity"

    @property
    def inn_length(self) -> int:
        return 10 if self is LegalType.LEGAL_ENTITY else 12


class RequisiteError(ValueError):
    """A detail that is wrong, with a ``code`` the web layer turns into a translated message."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


_DIGITS = re.compile(r"^\d+$")
_KPP = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")
_WEIGHTS = (7, 1, 3) * 8


def clean_inn(value: str, legal_type: LegalType) -> str:
    """The INN without spaces, checked for the length the legal type needs and the check digits."""
    number = re.sub(r"\s", "", value)
    if not _DIGITS.match(number):
        raise RequisiteError("inn_digits")
    if len(number) != legal_type.inn_length:
        raise RequisiteError("inn_length", expected=legal_type.inn_length, actual=len(number))
    try:
        stdnum_inn.validate(number)
    except InvalidChecksum:
        raise RequisiteError("inn_checksum") from None
    except (InvalidFormat, InvalidLength):
        raise RequisiteError("inn_digits") from None
    return number


def clean_kpp(value: str) -> str:
    number = re.sub(r"\s", "", value).upper()
    if len(number) != 9:
        raise RequisiteError("kpp_length", actual=len(number))
    if not _KPP.match(number):
        raise RequisiteError("kpp_format")
    return number


def clean_bic(value: str) -> str:
    number = re.sub(r"\s", "", value)
    if not _DIGITS.match(number) or len(number) != 9:
        raise RequisiteError("bic_format")
    return number


def clean_account(value: str, bic: str) -> str:
    """A settlement account (20 digits) checked against the bank's BIC control key."""
    number = re.sub(r"\s", "", value)
    if not _DIGITS.match(number) or len(number) != 20:
        raise RequisiteError("account_format")
    digits = bic[-3:] + number
    if sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=False)) % 10:
        raise RequisiteError("account_checksum")
    return number
