"""The plugin's settings form (Plugins → Installed plugins → telephony) and its product fields.

The settings choose the provisioning backend (the portal's shared ones: a program, an HTTP
endpoint of the PBX, or staff-only tickets) and the number pool's days. The product fields say
what a product of Module ``telephony`` sells — a PBX plan (seats included in its price; more
seats are its quantity option), a SIP trunk, or an add-on that only some plans may buy.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from portal.plugin_api import (
    BackendSettingsForm,
    PluginSettings,
    Product,
    ProductFields,
    product_values,
)
from portal.plugin_api import plugin_settings as stored_settings

PLUGIN = "telephony"

#: Product kinds: what one service of the product is.
PLAN, TRUNK, ADDON = "plan", "trunk", "addon"

DEFAULTS: dict[str, Any] = {
    "backend": "ticket",
    "command": "",
    "url": "",
    "token": "",
    "timeout": 30,
    "department": "",
    "quarantine_days": 10,
    "reservation_days": 3,
    "first_extension": 101,
}

PRODUCT_DEFAULTS: dict[str, Any] = {"kind": PLAN, "included_seats": 0, "plans": ""}


def settings() -> dict[str, Any]:
    """The plugin's settings as saved by staff, over the defaults."""
    return {**DEFAULTS, **stored_settings(PLUGIN)}


def product_fields(product: Product) -> dict[str, Any]:
    """The plugin's product fields of ``product`` (defaults for fields staff left alone)."""
    return {**PRODUCT_DEFAULTS, **product_values(product, PLUGIN)}


def allowed_plans(product: Product) -> list[str]:
    """The names of the plans an add-on may be bought with (empty: any plan)."""
    text = str(product_fields(product).get("plans") or "")
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class TelephonySettings(BackendSettingsForm):
    """The shared backend settings (program, endpoint, ticket department) and the pool's days."""

    quarantine_days = IntegerField(
        _l("Days a released number stays in quarantine"),
        validators=[InputRequired(), NumberRange(min=0, max=3650)],
    )
    reservation_days = IntegerField(
        _l("Days a number stays reserved for a client"),
        validators=[InputRequired(), NumberRange(min=1, max=365)],
    )
    first_extension = IntegerField(
        _l("First extension of a PBX"),
        validators=[InputRequired(), NumberRange(min=1, max=99_999)],
    )


class TelephonyProductForm(FlaskForm):
    kind = SelectField(
        _l("What the product sells"),
        choices=[
            (PLAN, _l("A PBX plan: seats (users) and numbers")),
            (TRUNK, _l("A SIP trunk")),
            (ADDON, _l("An add-on to a PBX plan")),
        ],
    )
    included_seats = IntegerField(
        _l("Seats included in the price"),
        validators=[InputRequired(), NumberRange(min=0, max=100_000)],
        description=_l("Seats above them are the product's quantity option (price per seat)."),
    )
    plans = TextAreaField(
        _l("Plans that may buy this add-on"),
        description=_l("Product names, one per line; empty: any PBX plan."),
    )


SETTINGS = PluginSettings(PLUGIN, TelephonySettings, defaults=DEFAULTS, label=_l("Telephony"))
PRODUCT_FIELDS = ProductFields(
    PLUGIN,
    TelephonyProductForm,
    defaults=PRODUCT_DEFAULTS,
    label=_l("Telephony"),
    modules=(PLUGIN,),
)
