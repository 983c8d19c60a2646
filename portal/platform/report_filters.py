"""The filters most reports share, as one form to subclass: the period (from/to, or a preset
such as "last month" or "this year"), the currency, the client's manager, the product and the
product group. A report drops what it does not use by setting the field to ``None`` in its
subclass (WTForms' way), and adds its own fields.

There is no "seller company" filter yet: the portal invoices as one company (see
docs/reports.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, Form, SelectField, ValidationError
from wtforms.validators import Optional

from portal.core import clock as portal_clock


def optional_int(value: Any) -> int | None:
    """A select's value: ``""`` (and ``"None"``, as WTForms renders ``None``) means "all"."""
    if value in (None, "", "None"):
        return None
    return int(value)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def preset_bounds(preset: str, today: date) -> tuple[date, date] | None:
    """``(first, last)`` day (both included) of a named period around ``today``."""
    this_month = month_start(today)
    bounds = {
        "this_month": (this_month, add_months(this_month, 1) - timedelta(days=1)),
        "last_month": (add_months(this_month, -1), this_month - timedelta(days=1)),
        "this_quarter": (
            _quarter_start(today),
            add_months(_quarter_start(today), 3) - timedelta(days=1),
        ),
        "this_year": (date(today.year, 1, 1), date(today.year, 12, 31)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "last_12_months": (add_months(this_month, -11), add_months(this_month, 1) - timedelta(1)),
    }
    return bounds.get(preset)


PRESETS = [
    ("", _l("Dates below")),
    ("this_month", _l("This month")),
    ("last_month", _l("Last month")),
    ("this_quarter", _l("This quarter")),
    ("this_year", _l("This year")),
    ("last_year", _l("Last year")),
    ("last_12_months", _l("Last 12 months")),
]


def _year_start() -> date:
    return date(portal_clock.today().year, 1, 1)


def _today() -> date:
    return portal_clock.today()


class ReportFilters(Form):
    """Period, currency, manager, product and product group. ``since`` and ``until`` are both
    included; a preset, when chosen, replaces them (and the form shows the dates it means)."""

    period = SelectField(_l("Period"), choices=PRESETS, default="", validators=[Optional()])
    since = DateField(_l("From"), default=_year_start, validators=[Optional()])
    until = DateField(_l("To"), default=_today, validators=[Optional()])
    currency = SelectField(_l("Currency"), validators=[Optional()])
    manager = SelectField(_l("Manager"), coerce=optional_int, validators=[Optional()])
    product_group = SelectField(_l("Product group"), coerce=optional_int, validators=[Optional()])
    product = SelectField(_l("Product"), coerce=optional_int, validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = (None, _l("All"))
        if "currency" in self._fields:
            from portal.catalog.currencies import default_currency, enabled_currencies

            self.currency.choices = [(code, code) for code in enabled_currencies()]
            if not self.currency.data:
                self.currency.data = default_currency()
        if "manager" in self._fields:
            from portal.accounts.models.staff import Staff
            from portal.core.extensions import db

            staff = db.session.execute(
                select(Staff.id, Staff.first_name, Staff.last_name).order_by(
                    Staff.first_name, Staff.last_name
                )
            ).all()
            self.manager.choices = [
                everything,
                *((s.id, f"{s.first_name} {s.last_name}".strip()) for s in staff),
            ]
        if "product_group" in self._fields or "product" in self._fields:
            from portal.catalog.models import Product, ProductGroup
            from portal.core.extensions import db

            if "product_group" in self._fields:
                groups = db.session.execute(
                    select(ProductGroup.id, ProductGroup.name).order_by(
                        ProductGroup.sort_order, ProductGroup.name
                    )
                ).all()
                self.product_group.choices = [everything, *((g.id, g.name) for g in groups)]
            if "product" in self._fields:
                products = db.session.execute(
                    select(Product.id, Product.name).order_by(Product.name)
                ).all()
                self.product.choices = [everything, *((p.id, p.name) for p in products)]

    def validate(self, extra_validators: Any = None) -> bool:
        preset = self.period.data if "period" in self._fields else ""
        bounds = preset_bounds(preset or "", portal_clock.today())
        if bounds is not None and "since" in self._fields:
            self.since.raw_data = self.until.raw_data = None
            self.since.data, self.until.data = bounds
        return super().validate(extra_validators)

    def validate_until(self, field: Any) -> None:
        since = self.since.data if "since" in self._fields else None
        if field.data and since and field.data < since:
            raise ValidationError(_l("The end must not be before the start."))
