"""The plugin's settings form (Plugins → Installed plugins → diskspace) and its product field.

Command templates are checked when staff save them: they must split like a shell line and use
only the placeholders the module fills in, so a typo is an error on the form, not a failed
command at night.
"""

from __future__ import annotations

import contextlib
import shlex
import string
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, NumberRange

from portal.plugin_api import BackendSettingsForm, PluginSettings, ProductFields

PLUGIN = "diskspace"
TICKET, COMMAND = "ticket", "command"

#: What a command template may use; each is filled in per command.
PLACEHOLDERS = frozenset(
    {"action", "account", "service_id", "quota_gb", "quota_kb", "quota_bytes", "old_quota_gb"}
)

DEFAULTS: dict[str, Any] = {
    "backend": TICKET,
    "command": "setquota -u {account} {quota_kb} {quota_kb} 0 0 /home",
    "suspend_command": "",
    "terminate_command": "",
    "usage_command": "",
    "usage_unit": "kb",
    "command_timeout": 30,
    "department": "",
    "package_gb": 5,
    "over_quota_price": "10.00",
    "grace_days": 30,
}


def placeholders_of(template: str) -> set[str]:
    """The ``{names}`` a template uses; raises ValueError when it does not split or format."""
    found: set[str] = set()
    for part in shlex.split(template):
        for _text, name, _spec, _conversion in string.Formatter().parse(part):
            if name is not None:
                found.add(name)
    return found


def _check_template(_form: Any, field: Any) -> None:
    if not (field.data or "").strip():
        return
    try:
        used = placeholders_of(field.data)
    except ValueError as error:
        raise ValidationError(_l("The command cannot be read: %(error)s", error=error)) from None
    unknown = sorted(used - PLACEHOLDERS)
    if unknown:
        raise ValidationError(
            _l(
                "Unknown placeholder %(names)s; use %(known)s.",
                names=", ".join("{%s}" % name for name in unknown),  # noqa: UP031
                known=", ".join("{%s}" % name for name in sorted(PLACEHOLDERS)),  # noqa: UP031
            )
        )


class StoredDecimalField(DecimalField):
    """A DecimalField that also takes the string a stored setting comes back as (JSON keeps
    decimals as text), so the settings page can show it."""

    def process_data(self, value: Any) -> None:
        if isinstance(value, str) and value:
            with contextlib.suppress(ArithmeticError):  # else shown as it is, then refused
                value = Decimal(value)
        super().process_data(value)


class DiskSpaceSettings(BackendSettingsForm):
    """The shared backend settings narrowed to a ticket or a command template (no HTTP
    endpoint; the timeout is ``command_timeout``), and the quota's own."""

    url = None  # type: ignore[assignment]
    token = None  # type: ignore[assignment]
    timeout = None  # type: ignore[assignment]
    backend = SelectField(
        _l("Backend"),
        choices=[
            (TICKET, _l("A ticket to the support department (staff set the quota by hand)")),
            (COMMAND, _l("A command run by the portal (setquota, xfs_quota, a panel CLI)")),
        ],
    )
    command = StringField(
        _l("Quota command"),
        validators=[_check_template],
        description=_l(
            "Sets the quota on create, package change and unsuspend. Placeholders: {account}, "
            "{quota_gb}, {quota_kb}, {quota_bytes}, {old_quota_gb}, {action}, {service_id}."
        ),
    )
    suspend_command = StringField(
        _l("Suspend command"),
        validators=[_check_template],
        description=_l("Empty: the quota command with a quota of 1 KB (nothing can be written)."),
    )
    terminate_command = StringField(
        _l("Terminate command"),
        validators=[_check_template],
        description=_l("Empty: the quota command with a quota of 1 KB (the data is kept)."),
    )
    usage_command = StringField(
        _l("Usage command"),
        validators=[_check_template],
        description=_l(
            "Prints the space the account uses, e.g. quota -u {account}; empty: no usage."
        ),
    )
    usage_unit = SelectField(
        _l("The usage command prints"),
        choices=[("kb", _l("kilobytes")), ("bytes", _l("bytes"))],
    )
    command_timeout = IntegerField(
        _l("Command timeout, seconds"), validators=[InputRequired(), NumberRange(min=1, max=3600)]
    )
    department = SelectField(_l("Support department for tickets"), choices=[])
    package_gb = IntegerField(
        _l("Package size, GB"), validators=[DataRequired(), NumberRange(min=1, max=100_000)]
    )
    over_quota_price = StoredDecimalField(
        _l("Price per GB over the quota, per month"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal(0))],
    )
    grace_days = IntegerField(
        _l("Days over the quota before writing is blocked"),
        validators=[InputRequired(), NumberRange(min=0, max=3650)],
    )

    def validate_command(self, field: Any) -> None:
        if self.backend.data == COMMAND and not (field.data or "").strip():
            raise ValidationError(_l("Enter the command that sets a quota."))


class DiskSpaceProductForm(FlaskForm):
    included_gb = IntegerField(
        _l("Disk space included in the price, GB"),
        validators=[InputRequired(), NumberRange(min=0, max=1_000_000)],
        description=_l("Added to the packages of the quantity option."),
    )


SETTINGS = PluginSettings(PLUGIN, DiskSpaceSettings, defaults=DEFAULTS, label=_l("Disk space"))
PRODUCT_FIELDS = ProductFields(
    PLUGIN,
    DiskSpaceProductForm,
    defaults={"included_gb": 0},
    label=_l("Disk space"),
    modules=(PLUGIN,),
)
