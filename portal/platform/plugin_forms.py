"""What a plugin registers to get a settings form (``register_settings``) or extra fields on the
admin product form (``register_product_fields``).

Both name a Flask-WTF form class; the portal renders it, validates it, stores the values as JSON
and hands them back through :mod:`portal.platform.plugin_settings`. Secret settings — every
``PasswordField``, plus names listed in ``secrets`` — are stored encrypted and never shown again.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wtforms import PasswordField, SubmitField
from wtforms.fields.core import UnboundField


def form_fields(form: type) -> dict[str, type]:
    """The data fields a form class declares (name -> field class), submit buttons left out."""
    found = {}
    for name, value in inspect.getmembers(form):
        if isinstance(value, UnboundField) and not issubclass(value.field_class, SubmitField):
            found[name] = value.field_class
    return found


@dataclass(frozen=True)
class _PluginForm:
    plugin: str
    form: type
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: The heading on the page; the plugin name if empty.
    label: str = ""

    @property
    def fields(self) -> dict[str, type]:
        return form_fields(self.form)


@dataclass(frozen=True)
class PluginSettings(_PluginForm):
    """A plugin's settings: ``form`` (a ``FlaskForm`` subclass) is shown on the Plugins page;
    ``defaults`` apply until staff save a value."""

    #: Names of further secret fields (a ``PasswordField`` is always secret).
    secrets: tuple[str, ...] = ()

    @property
    def secret_names(self) -> frozenset[str]:
        declared = {n for n, cls in self.fields.items() if issubclass(cls, PasswordField)}
        return frozenset(declared | set(self.secrets))


@dataclass(frozen=True)
class ProductFields(_PluginForm):
    """Fields a plugin adds to the admin product page, stored per product under the plugin's
    name in ``product.plugin_fields``. With ``modules``, they appear only on products whose
    Module is one of them (e.g. ``("diskspace",)``)."""

    modules: tuple[str, ...] = ()

    def applies_to(self, module: str | None) -> bool:
        return not self.modules or (module or "") in self.modules
