"""The plugin's settings form (Plugins → Installed plugins → onec) and its product fields.

The settings choose the provisioning backend (a program, an HTTP endpoint of the cloud, or
staff-only tickets) and the list of configurations a base may have. The product fields say what
a product of Module ``onec`` sells — sessions (users), a base or a licence of a product line —
and the numbers other parts of the plugin read: the tariff's limits, the renewal window and the
days without use after which a client counts as inactive.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, NumberRange

from portal.plugin_api import (
    BackendSettingsForm,
    PluginSettings,
    Product,
    ProductFields,
    product_values,
)
from portal.plugin_api import plugin_settings as stored_settings

PLUGIN = "onec"
TICKET, COMMAND, HTTP = "ticket", "command", "http"

#: Product kinds: what one service of the product is.
SESSIONS, BASE, LICENCE = "sessions", "base", "licence"

#: The configurations offered when staff have not set their own list.
CONFIGURATIONS = (
    "Бухгалтерия предприятия",
    "Зарплата и управление персоналом",
    "Управление нашей фирмой",
    "Розница",
    "Управление торговлей",
    "1С:ERP",
    "Комплексная автоматизация",
)

#: The renewal window a product may have, in days before the end of the period.
RENEWAL_WINDOW = (40, 60)

DEFAULTS: dict[str, Any] = {
    "backend": TICKET,
    "command": "",
    "url": "",
    "token": "",
    "timeout": 30,
    "department": "",
    "configurations": "\n".join(CONFIGURATIONS),
    "usage_source": "",
}

PRODUCT_DEFAULTS: dict[str, Any] = {
    "kind": SESSIONS,
    "product_line": "",
    "bases_limit": 0,
    "sessions_limit": 0,
    "renewal_window_days": 60,
    "inactivity_days": 30,
}


def settings() -> dict[str, Any]:
    """The plugin's settings as saved by staff, over the defaults."""
    return {**DEFAULTS, **stored_settings(PLUGIN)}


def configurations(config: dict[str, Any] | None = None) -> list[str]:
    """The configurations a base may have, in the order staff listed them."""
    text = (config or settings()).get("configurations") or ""
    found = [line.strip() for line in str(text).splitlines() if line.strip()]
    return found or list(CONFIGURATIONS)


def product_fields(product: Product) -> dict[str, Any]:
    """The plugin's product fields of ``product`` (defaults for fields staff left alone)."""
    return {**PRODUCT_DEFAULTS, **product_values(product, PLUGIN)}


class OnecSettings(BackendSettingsForm):
    """The shared backend settings (program, endpoint, ticket department) and the cloud's own."""

    configurations = TextAreaField(
        _l("Configurations"), description=_l("One per line: what a new base may be.")
    )
    usage_source = StringField(
        _l("Usage exports of the cloud"),
        description=_l(
            "A folder of JSON or CSV exports of sessions per base, or an http(s) URL; read "
            "daily by the job onec.usage. Empty: usage is imported by hand "
            "(portal onec import-usage FILE)."
        ),
    )


class OnecProductForm(FlaskForm):
    kind = SelectField(
        _l("What the product sells"),
        choices=[
            (SESSIONS, _l("A tariff: users and concurrent sessions")),
            (BASE, _l("An information base")),
            (LICENCE, _l("A licence for an organisation")),
        ],
    )
    product_line = StringField(
        _l("Product line"),
        description=_l(
            "Licences of one line share one period within a client account (e.g. 1C:ITS)."
        ),
    )
    bases_limit = IntegerField(
        _l("Bases allowed"),
        validators=[InputRequired(), NumberRange(min=0, max=10_000)],
        description=_l("0: no limit."),
    )
    sessions_limit = IntegerField(
        _l("Concurrent sessions allowed"),
        validators=[InputRequired(), NumberRange(min=0, max=100_000)],
        description=_l("0: no limit."),
    )
    renewal_window_days = IntegerField(
        _l("Renewal window, days before the end"),
        validators=[InputRequired(), NumberRange(min=RENEWAL_WINDOW[0], max=RENEWAL_WINDOW[1])],
    )
    inactivity_days = IntegerField(
        _l("Inactive after days without use"),
        validators=[InputRequired(), NumberRange(min=1, max=3650)],
    )

    def validate_product_line(self, field: Any) -> None:
        if self.kind.data == LICENCE and not (field.data or "").strip():
            raise ValidationError(_l("A licence needs its product line."))


SETTINGS = PluginSettings(PLUGIN, OnecSettings, defaults=DEFAULTS, label=_l("1C cloud"))
PRODUCT_FIELDS = ProductFields(
    PLUGIN, OnecProductForm, defaults=PRODUCT_DEFAULTS, label=_l("1C cloud"), modules=(PLUGIN,)
)
