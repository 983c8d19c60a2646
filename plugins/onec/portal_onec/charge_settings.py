"""Product fields of additional charges (Module ``onec``, shown under "1C cloud: additional
charges"): the price of one session and of one base above the tariff's limits, per month, the
days the client has to pay, and whether the tariff is postpaid (everything measured is
charged: a limit of 0 then includes nothing instead of meaning "no limit")."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from portal.plugin_api import Product, ProductFields, product_values

#: The name the fields are stored under in ``product.plugin_fields`` (apart from the tariff's).
CHARGES = "onec_charges"
#: The product Module the fields appear on.
MODULE = "onec"
#: Days to pay an additional charge (DOMAIN: "30 days to pay, then the function is blocked").
DAYS_TO_PAY = 30

DEFAULTS: dict[str, Any] = {
    "session_price": "0.00",
    "base_price": "0.00",
    "days_to_pay": DAYS_TO_PAY,
    "postpaid": False,
}


class StoredDecimalField(DecimalField):
    """Reads back the text the settings store keeps a Decimal as."""

    def process_data(self, value: Any) -> None:
        if isinstance(value, str) and value:
            with contextlib.suppress(ArithmeticError):
                value = Decimal(value)
        super().process_data(value)


class ChargesProductForm(FlaskForm):
    session_price = StoredDecimalField(
        _l("Price of a session above the limit, per month"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal(0))],
        description=_l("0: sessions above the limit are not charged."),
    )
    base_price = StoredDecimalField(
        _l("Price of a base above the limit, per month"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal(0))],
        description=_l("0: bases above the limit are not charged."),
    )
    days_to_pay = IntegerField(
        _l("Days to pay an additional charge"),
        validators=[InputRequired(), NumberRange(min=1, max=365)],
        description=_l("Unpaid after these days, the function used on credit is blocked."),
    )
    postpaid = BooleanField(
        _l("Postpaid: charge everything measured"),
        description=_l("A limit of 0 then includes nothing, instead of meaning no limit."),
    )


def values(product: Product) -> dict[str, Any]:
    """The additional-charge fields of ``product``, over the defaults; prices as Decimal."""
    found = {**DEFAULTS, **product_values(product, CHARGES)}
    for key in ("session_price", "base_price"):
        found[key] = Decimal(str(found[key] or "0"))
    found["days_to_pay"] = int(found["days_to_pay"] or DAYS_TO_PAY)
    found["postpaid"] = bool(found["postpaid"])
    return found


PRODUCT_FIELDS = ProductFields(
    CHARGES,
    ChargesProductForm,
    defaults=DEFAULTS,
    label=_l("1C cloud: additional charges"),
    modules=(MODULE,),
)
