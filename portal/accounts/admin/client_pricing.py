"""The client card's "Discounts and taxes" tab: the client's personal discounts and tax rules.

Viewing needs ``clients.view``; adding, editing and ending a rule needs ``clients.edit``, as every
other edit on the card. The rules live in the catalog area (``portal.catalog.client_rules``),
which checks them and writes the audit entries; these views only read the forms.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.accounts.admin.clients import _card, _client_or_404, admin_clients
from portal.accounts.forms import DISCOUNT_KIND_LABELS, ClientDiscountForm, ClientTaxRuleForm
from portal.accounts.models import Client
from portal.accounts.models.permissions import Permission
from portal.catalog import client_rules
from portal.catalog.catalog import PRODUCT_TYPE_LABELS
from portal.catalog.models import ClientDiscount, ClientTaxRule
from portal.core.clock import today
from portal.core.extensions import db
from portal.web.formatting import plain_number
from portal.web.forms import enum_choices
from portal.web.permissions import requires

Rule = ClientDiscount | ClientTaxRule


def _discount_form(**kwargs: Any) -> ClientDiscountForm:
    form = ClientDiscountForm(**kwargs)
    form.product_id.choices = [(None, _("All products")), *client_rules.product_choices()]
    return form


def _tax_form(**kwargs: Any) -> ClientTaxRuleForm:
    form = ClientTaxRuleForm(**kwargs)
    form.product_types.choices = enum_choices(PRODUCT_TYPE_LABELS)
    return form


def _rule_or_404(model: type[Rule], client_id: int, rule_id: int) -> Any:
    """A rule of this client; another client's id in the URL is a 404."""
    rule = db.session.get(model, rule_id)
    if rule is None or rule.client_id != client_id:
        abort(404)
    return rule


def _error(form: Any, exc: client_rules.RuleError, names: dict[str, str] | None = None) -> None:
    name = (names or {}).get(exc.field or "", exc.field or "")
    field = getattr(form, name, None)
    if field is None:
        flash(str(exc), "danger")
    else:
        field.errors = [*field.errors, str(exc)]


def _tab(
    client: Client,
    discount_form: ClientDiscountForm | None = None,
    tax_form: ClientTaxRuleForm | None = None,
) -> str:
    return _card(
        client,
        "pricing",
        discounts=client_rules.discounts_of(client.id),
        tax_rules=client_rules.tax_rules_of(client.id),
        discount_form=discount_form or _discount_form(formdata=None),
        tax_form=tax_form or _tax_form(formdata=None),
        kind_labels=DISCOUNT_KIND_LABELS,
        type_labels=PRODUCT_TYPE_LABELS,
        window=client_rules.window_label,
        is_current=client_rules.is_current,
        today=today(),
    )


def _may_edit() -> None:
    if not current_user.can(Permission.CLIENTS_EDIT):
        abort(403)


@admin_clients.route("/<int:client_id>/pricing")
@requires(Permission.CLIENTS_VIEW)
def pricing_tab(client_id: int) -> str:
    return _tab(_client_or_404(client_id))


@admin_clients.route("/<int:client_id>/pricing/discounts", methods=["POST"])
@requires(Permission.CLIENTS_EDIT)
def discount_add(client_id: int) -> Response | str:
    client = _client_or_404(client_id)
    form = _discount_form()
    if form.validate():
        try:
            client_rules.save_discount(client, form.values())
        except client_rules.RuleError as exc:
            _error(form, exc)
        else:
            flash(_("Personal discount added."), "success")
            return redirect(url_for("admin_clients.pricing_tab", client_id=client_id))
    return _tab(client, discount_form=form)


@admin_clients.route("/<int:client_id>/pricing/discounts/<int:rule_id>", methods=["GET", "POST"])
@requires(Permission.CLIENTS_VIEW)
def discount_edit(client_id: int, rule_id: int) -> Response | str:
    client = _client_or_404(client_id)
    rule = _rule_or_404(ClientDiscount, client_id, rule_id)
    form = _discount_form(
        data={
            "product_id": rule.product_id,
            "kind": rule.kind.value,
            "value": plain_number(rule.value),
            "valid_from": rule.valid_from,
            "valid_to": rule.valid_to,
            "note": rule.note,
        }
    )
    if request.method == "POST":
        _may_edit()
        if form.validate():
            try:
                client_rules.save_discount(client, form.values(), rule)
            except client_rules.RuleError as exc:
                db.session.rollback()
                _error(form, exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("admin_clients.pricing_tab", client_id=client_id))
    return _card(client, "pricing_edit", rule=rule, form=form, kind="discount")


@admin_clients.route("/<int:client_id>/pricing/taxes", methods=["POST"])
@requires(Permission.CLIENTS_EDIT)
def tax_rule_add(client_id: int) -> Response | str:
    client = _client_or_404(client_id)
    form = _tax_form()
    if form.validate():
        try:
            client_rules.save_tax_rule(client, form.values())
        except client_rules.RuleError as exc:
            _error(form, exc, ClientTaxRuleForm.FIELDS)
        else:
            flash(_("Tax rule added."), "success")
            return redirect(url_for("admin_clients.pricing_tab", client_id=client_id))
    return _tab(client, tax_form=form)


@admin_clients.route("/<int:client_id>/pricing/taxes/<int:rule_id>", methods=["GET", "POST"])
@requires(Permission.CLIENTS_VIEW)
def tax_rule_edit(client_id: int, rule_id: int) -> Response | str:
    client = _client_or_404(client_id)
    rule = _rule_or_404(ClientTaxRule, client_id, rule_id)
    form = _tax_form(data=ClientTaxRuleForm.data_of(rule))
    if request.method == "POST":
        _may_edit()
        if form.validate():
            try:
                client_rules.save_tax_rule(client, form.values(), rule)
            except client_rules.RuleError as exc:
                db.session.rollback()
                _error(form, exc, ClientTaxRuleForm.FIELDS)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("admin_clients.pricing_tab", client_id=client_id))
    return _card(client, "pricing_edit", rule=rule, form=form, kind="tax")


@admin_clients.route("/<int:client_id>/pricing/<kind>/<int:rule_id>/end", methods=["POST"])
@requires(Permission.CLIENTS_EDIT)
def rule_end(client_id: int, kind: str, rule_id: int) -> Response:
    """End a discount or a tax rule today (the service says whether it was closed or removed)."""
    model = {"discounts": ClientDiscount, "taxes": ClientTaxRule}.get(kind)
    if model is None:
        abort(404)
    rule = _rule_or_404(model, client_id, rule_id)
    if client_rules.end_rule(rule, today()):
        flash(_("The rule had not begun yet and is removed."), "success")
    else:
        flash(_("The rule is ended: it no longer applies from today."), "success")
    return redirect(url_for("admin_clients.pricing_tab", client_id=client_id))
