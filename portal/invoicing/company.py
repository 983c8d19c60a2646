"""The provider's own legal and bank details, printed on every invoice and act."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from portal.accounts.clients import REQUISITE_MESSAGES, ClientError
from portal.accounts.requisites import (
    LegalType,
    RequisiteError,
    clean_account,
    clean_bic,
    clean_inn,
    clean_kpp,
)
from portal.platform import runtime_settings

COMPANY_FIELDS = (
    "name",
    "inn",
    "kpp",
    "address",
    "bank_name",
    "bank_bic",
    "bank_account",
    "bank_corr_account",
    "signatory",
    "accountant",
    "phone",
    "email",
)


def company_details() -> dict[str, str]:
    stored = runtime_settings.get("company", {}) or {}
    details = {field: str(stored.get(field, "")) for field in COMPANY_FIELDS}
    details["name"] = details["name"] or current_app.config["PORTAL"]["company_name"]
    return details


def save_company_details(values: Mapping[str, Any]) -> None:
    """Validate the provider's INN/KPP/bank like a client's, then store (audited)."""
    data = {field: (values.get(field) or "").strip() for field in COMPANY_FIELDS}
    field = ""
    try:
        field = "inn"
        if data["inn"]:
            legal = LegalType.LEGAL_ENTITY if len(data["inn"]) == 10 else LegalType.SOLE_PROPRIETOR
            data["inn"] = clean_inn(data["inn"], legal)
        field = "kpp"
        if data["kpp"]:
            data["kpp"] = clean_kpp(data["kpp"])
        field = "bank_bic"
        if data["bank_bic"]:
            data["bank_bic"] = clean_bic(data["bank_bic"])
        field = "bank_account"
        if data["bank_account"]:
            data["bank_account"] = clean_account(data["bank_account"], data["bank_bic"] or "000")
    except RequisiteError as exc:
        raise ClientError(str(REQUISITE_MESSAGES[exc.code] % exc.params), field) from None
    runtime_settings.put("company", data)
