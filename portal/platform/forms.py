"""Admin-area forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField


class ThemeForm(FlaskForm):
    theme = SelectField(_l("Client-area theme"), choices=[])
