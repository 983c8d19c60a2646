"""Russian legal details: INN check digits (python-stdnum), KPP format, BIC, account key."""

import pytest

from portal.accounts.requisites import (
    LegalType,
    RequisiteError,
    clean_account,
    clean_bic,
    clean_inn,
    clean_kpp,
)

COMPANY_INN = "7707083893"  # Sberbank
PERSON_INN = "500100732259"


def test_valid_inns_for_each_legal_type() -> None:
    assert clean_inn(" 7707 083893 ", LegalType.LEGAL_ENTITY) == COMPANY_INN
    assert clean_inn(PERSON_INN, LegalType.SOLE_PROPRIETOR) == PERSON_INN
    assert clean_inn(PERSON_INN, LegalType.INDIVIDUAL) == PERSON_INN


@pytest.mark.parametrize(
    ("value", "legal_type", "code", "params"),
    [
        (PERSON_INN, LegalType.LEGAL_ENTITY, "inn_length", {"expected": 10, "actual": 12}),
        (COMPANY_INN, LegalType.SOLE_PROPRIETOR, "inn_length", {"expected": 12, "actual": 10}),
        ("7707083894", LegalType.LEGAL_ENTITY, "inn_checksum", {}),
        ("500100732258", LegalType.INDIVIDUAL, "inn_checksum", {}),
        ("77O7083893", LegalType.LEGAL_ENTITY, "inn_digits", {}),
    ],
)
def test_wrong_inns(value: str, legal_type: LegalType, code: str, params: dict) -> None:
    with pytest.raises(RequisiteError) as caught:
        clean_inn(value, legal_type)
    assert caught.value.code == code
    assert caught.value.params == params


def test_kpp() -> None:
    assert clean_kpp("773601001") == "773601001"
    assert clean_kpp("7736ab001") == "7736AB001"  # letters allowed in the reason code since 2019
    with pytest.raises(RequisiteError, match="kpp_length"):
        clean_kpp("77360100")
    with pytest.raises(RequisiteError, match="kpp_format"):
        clean_kpp("77A601001")


def test_bic_and_account_control_key() -> None:
    assert clean_bic("044525225") == "044525225"
    assert clean_account("4070 2810 3038 0000 6047", "044525225") == "40702810303800006047"
    with pytest.raises(RequisiteError, match="account_checksum"):
        clean_account("40702810403800006047", "044525225")
    with pytest.raises(RequisiteError, match="account_checksum"):
        clean_account("40702810303800006047", "044525974")  # the same account at another bank
    with pytest.raises(RequisiteError, match="account_format"):
        clean_account("4070281030380000604", "044525225")
    with pytest.raises(RequisiteError, match="bic_format"):
        clean_bic("04452522")
