"""Additional charges on screen: the client's list with a pay link and a refusal form (client
area, scoped to the signed-in client), and the staff list with filters (admin, "billing.view").
Views are thin: the refusal is :func:`portal_onec.charges.refuse`, which commits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import Select, select
from wtforms import DateField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.plugin_api import Client, InvoiceStatus, paginate, requires, session
from portal_onec import charges
from portal_onec.charge_model import AdditionalCharge, ChargeState, Function

#: At most this many charges in the client's list and on the client card (newest first).
LIST_LIMIT = 200

STATE_LABELS = {
    ChargeState.OPEN.value: _l("To pay"),
    ChargeState.PAID.value: _l("Paid"),
    ChargeState.BLOCKED.value: _l("Blocked: unpaid"),
    ChargeState.REFUSED.value: _l("Refused"),
}
FUNCTION_LABELS = {
    Function.SESSIONS.value: _l("Concurrent sessions"),
    Function.BASES.value: _l("Information bases"),
}
#: Invoices the client can open (the core shows issued ones that are not cancelled).
PAYABLE = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)

client_charges = Blueprint(
    "onec_charges", __name__, template_folder="templates", url_prefix="/onec/charges"
)
client_charges.portal_area = "client"  # type: ignore[attr-defined]

admin_charges = Blueprint(
    "onec_charges_admin", __name__, template_folder="templates", url_prefix="/admin/onec/charges"
)
admin_charges.portal_area = "admin"  # type: ignore[attr-defined]


class RefuseForm(FlaskForm):
    comment = TextAreaField(
        _l("Why do you refuse the charge?"),
        validators=[
            DataRequired(message=_l("Say why you refuse the charge: a comment is required.")),
            Length(max=2000),
        ],
    )


def labels() -> dict[str, Any]:
    return {"state_labels": STATE_LABELS, "function_labels": FUNCTION_LABELS}


def payable(row: AdditionalCharge) -> bool:
    """The pay link is shown while the charge's invoice can be paid."""
    return (
        row.state in charges.UNSETTLED and row.invoice is not None and row.invoice.status in PAYABLE
    )


# --- client area ---------------------------------------------------------------------------------


def _mine(charge_id: int) -> AdditionalCharge:
    row = session().get(AdditionalCharge, charge_id)
    if row is None or row.client_id != current_user.id:
        abort(404)
    return row


def _client_page(forms: dict[int, RefuseForm] | None = None, status: int = 200) -> Any:
    rows = (
        session()
        .scalars(
            select(AdditionalCharge)
            .where(AdditionalCharge.client_id == current_user.id)
            .order_by(AdditionalCharge.period_start.desc(), AdditionalCharge.id.desc())
            .limit(LIST_LIMIT)
        )
        .all()
    )
    forms = forms or {}
    for row in rows:
        if row.state in charges.UNSETTLED and row.id not in forms:
            forms[row.id] = RefuseForm(prefix=f"refuse-{row.id}", formdata=None)
    page = render_template(
        "onec/charges/client_list.html", rows=rows, forms=forms, payable=payable, **labels()
    )
    return page, status


@client_charges.route("/")
def client_list() -> Any:
    return _client_page()


@client_charges.route("/<int:charge_id>/refuse", methods=["POST"])
def client_refuse(charge_id: int) -> Any:
    row = _mine(charge_id)
    form = RefuseForm(prefix=f"refuse-{row.id}")
    if not form.validate():
        return _client_page({row.id: form}, status=400)
    try:
        charges.refuse(row, form.comment.data or "")
    except charges.ChargeError as error:
        form.comment.errors = [str(error)]
        return _client_page({row.id: form}, status=400)
    flash(_("You refused the charge; the function it was for is blocked."), "success")
    return redirect(url_for(".client_list"))


def client_panel(client: object) -> Markup:
    """The dashboard panel: the client's unsettled charges, with a link to the list."""
    assert isinstance(client, Client)
    rows = (
        session()
        .scalars(
            select(AdditionalCharge).where(
                AdditionalCharge.client_id == client.id,
                AdditionalCharge.state.in_(charges.UNSETTLED),
            )
        )
        .all()
    )
    page = render_template("onec/charges/client_panel.html", rows=rows, **labels())
    return Markup(page)  # noqa: S704 - rendered by an autoescaping template


# --- admin -------------------------------------------------------------------------------------


class StaffFilters(Form):
    state = SelectField(
        _l("State"), choices=[("", _l("All")), *STATE_LABELS.items()], validators=[Optional()]
    )
    function = SelectField(
        _l("Function"),
        choices=[("", _l("All")), *FUNCTION_LABELS.items()],
        validators=[Optional()],
    )
    client = StringField(_l("Client"), validators=[Optional(), Length(max=100)])
    since = DateField(_l("Month from"), validators=[Optional()])
    until = DateField(_l("Month to"), validators=[Optional()])


def filtered(values: dict[str, Any], client_id: int | None = None) -> Select[Any]:
    """The staff list's query for the filter values (all of them optional)."""
    query = select(AdditionalCharge).join(Client, Client.id == AdditionalCharge.client_id)
    if client_id is not None:
        query = query.where(AdditionalCharge.client_id == client_id)
    if values.get("state"):
        query = query.where(AdditionalCharge.state == values["state"])
    if values.get("function"):
        query = query.where(AdditionalCharge.function == values["function"])
    if values.get("since"):
        query = query.where(AdditionalCharge.period_start >= values["since"].replace(day=1))
    if values.get("until"):
        query = query.where(AdditionalCharge.period_start <= values["until"])
    text = (values.get("client") or "").strip()
    if text:
        like = f"%{text}%"
        query = query.where(
            Client.company.ilike(like) | Client.last_name.ilike(like) | Client.email.ilike(like)
        )
    return query.order_by(AdditionalCharge.period_start.desc(), AdditionalCharge.id.desc())


@admin_charges.route("/")
@requires("billing.view")
def staff_list() -> str:
    form = StaffFilters(request.args)
    values = form.data if form.validate() else {}
    page = paginate(  # keyset: the statement's own ORDER BY, by period then id
        filtered(values), sort=AdditionalCharge.period_start, id_column=AdditionalCharge.id
    )
    return render_template(
        "onec/charges/staff_list.html",
        form=form,
        page=page,
        rows=page.items,
        filters={
            k: v for k, v in request.args.items() if k not in ("page", "after", "before", "last")
        },
        **labels(),
    )


def client_card_section(client: Client) -> Markup:
    """The additional charges of ``client`` on the 1C tab of the client card."""
    rows = session().scalars(filtered({}, client_id=client.id).limit(LIST_LIMIT)).all()
    page = render_template("onec/charges/_staff_table.html", rows=rows, client=client, **labels())
    return Markup(page)  # noqa: S704 - rendered by an autoescaping template
