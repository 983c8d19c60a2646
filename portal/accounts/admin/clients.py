"""The client list and the client card (tabs) in the admin area."""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, asc, desc, select
from sqlalchemy.orm import joinedload, lazyload, selectinload
from werkzeug.wrappers import Response

from portal.accounts import clients, contacts, notes, two_factor
from portal.accounts.forms import (
    LEGAL_TYPE_LABELS,
    RATING_LABELS,
    STATUS_LABELS,
    ClientForm,
    ContactForm,
    MergeForm,
    NewClientForm,
    NoteForm,
)
from portal.accounts.models import Client, ClientStatus, Staff
from portal.accounts.models.audit import AuditEntry
from portal.accounts.models.client import ClientGroup
from portal.accounts.models.contact import Contact
from portal.accounts.models.custom_field import CustomField, CustomFieldValue
from portal.accounts.models.note import Note
from portal.accounts.models.permissions import Permission
from portal.accounts.requisites import LegalType
from portal.accounts.sessions import IMPERSONATOR_KEY
from portal.catalog.catalog import CYCLE_LABELS
from portal.core.app_state import plugins
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing import credit_terms, invoices, payments
from portal.invoicing.models.invoice import INVOICE_STATUS_LABELS
from portal.invoicing.models.payment import CREDIT_REASON_LABELS
from portal.messaging import outbox
from portal.orders import orders
from portal.orders.models.service import SERVICE_STATUS_LABELS
from portal.platform import search
from portal.support import tickets
from portal.web.csv_export import csv_response
from portal.web.formatting import labels_once
from portal.web.identity import Area, sign_in
from portal.web.menu import ClientCardTab
from portal.web.paging import PAGING_ARGS, keyset_page
from portal.web.permissions import requires
from portal.web.query_args import db_id

admin_clients = Blueprint("admin_clients", __name__, url_prefix="/admin/clients")
admin_clients.portal_area = Area.ADMIN  # type: ignore[attr-defined]


TABS = (
    ("summary", _l("Summary")),
    ("profile", _l("Profile")),
    ("contacts", _l("Contacts")),
    ("services", _l("Services")),
    ("invoices", _l("Invoices")),
    ("transactions", _l("Transactions")),
    ("pricing", _l("Discounts and taxes")),
    ("tickets", _l("Tickets")),
    ("emails", _l("E-mails")),
    ("notes", _l("Notes")),
    ("log", _l("Log")),
)
SORTS = {
    "id": Client.id,
    "name": Client.last_name,
    "company": Client.company,
    "email": Client.email,
    "created": Client.created_at,
}


Owned = TypeVar("Owned", Contact, Note)


def _client_or_404(client_id: int) -> Client:
    client = db.session.get(Client, client_id)
    if client is None:
        abort(404)
    return client


def _staff_choices() -> list[tuple[int | None, str]]:
    staff = db.session.scalars(
        select(Staff)
        .where(Staff.is_active.is_(True))
        .order_by(Staff.first_name)
        .options(lazyload(Staff.departments))  # names to choose from
    )
    return [(None, "—"), *((member.id, member.full_name) for member in staff)]


def _group_choices() -> list[tuple[int | None, str]]:
    groups = db.session.scalars(select(ClientGroup).order_by(ClientGroup.name))
    return [(None, "—"), *((group.id, group.name) for group in groups)]


def _prepare(form: ClientForm, client: Client | None) -> None:
    from portal.catalog.currencies import enabled_currencies

    offered = enabled_currencies()
    if client is not None and client.currency not in offered:
        offered.append(client.currency)  # keep a currency whose rates were removed
    form.currency.choices = [(code, code) for code in offered]
    form.group_id.choices = _group_choices()
    form.manager_id.choices = form.sales_manager_id.choices = _staff_choices()
    contact_rows = (
        []
        if client is None
        else db.session.scalars(
            select(Contact).where(Contact.client_id == client.id).order_by(Contact.first_name)
        )
    )
    form.billing_contact_id.choices = [(None, "—"), *((c.id, c.full_name) for c in contact_rows)]


def _custom_input(fields: list[CustomField]) -> dict[int, str]:
    return {field.id: request.form.get(f"custom_{field.id}", "") for field in fields}


def filtered_clients(args: Any) -> Select[tuple[Client]]:
    """The client list query for the search box, filters and sort order in ``args``."""
    stmt = select(Client)
    search_text = search.from_args(args)
    if search_text or search_text.problem:
        stmt = stmt.where(search.client_condition(search_text))
    if args.get("status") in {s.value for s in ClientStatus}:
        stmt = stmt.where(Client.status == ClientStatus(args["status"]))
    if args.get("legal_type") in {t.value for t in LegalType}:
        stmt = stmt.where(Client.legal_type == LegalType(args["legal_type"]))
    for key, column in (("group", Client.group_id), ("manager", Client.manager_id)):
        if (wanted := db_id(args.get(key))) is not None:
            stmt = stmt.where(column == wanted)
    field_id, field_value = db_id(args.get("field")), args.get("value", "").strip()
    if field_id is not None and field_value:
        stmt = stmt.where(
            Client.id.in_(
                select(CustomFieldValue.client_id).where(
                    CustomFieldValue.field_id == field_id,
                    search.contains(CustomFieldValue.value, field_value),
                )
            )
        )
    column = SORTS.get(args.get("sort", "id"), Client.id)
    order = asc if args.get("dir") == "asc" else desc
    return stmt.order_by(order(column), desc(Client.id))


@admin_clients.route("")
@requires(Permission.CLIENTS_VIEW)
def index() -> Response | str:
    stmt = filtered_clients(request.args).options(  # one query (docs/performance.md)
        joinedload(Client.group),
        joinedload(Client.manager).lazyload(Staff.departments),  # a row shows the name only
    )
    if request.args.get("format") == "csv":
        rows = db.session.scalars(stmt)
        return csv_response(
            "clients.csv",
            [
                _("ID"),
                _("Name"),
                _("Company"),
                _("E-mail"),
                _("Phone"),
                _("INN"),
                _("KPP"),
                _("Status"),
                _("Client group"),
                _("Personal manager"),
                _("Registered"),
            ],
            (
                (
                    c.id,
                    c.full_name,
                    c.company,
                    c.email,
                    c.phone,
                    c.inn,
                    c.kpp,
                    STATUS_LABELS[c.status],
                    c.group.name if c.group else "",
                    c.manager.full_name if c.manager else "",
                    c.created_at.date().isoformat(),
                )
                for c in rows
            ),
        )
    column = SORTS.get(request.args.get("sort", "id"), Client.id)
    page = keyset_page(
        stmt, sort=column, id_column=Client.id, descending=request.args.get("dir") != "asc"
    )
    return render_template(
        "admin/clients/list.html",
        page=page,
        args={key: value for key, value in request.args.items() if key not in PAGING_ARGS},
        groups=_group_choices()[1:],
        managers=_staff_choices()[1:],
        fields=clients.custom_fields(),
        status_labels=labels_once(STATUS_LABELS),
        legal_labels=LEGAL_TYPE_LABELS,
    )


@admin_clients.route("/new", methods=["GET", "POST"])
@requires(Permission.CLIENTS_EDIT)
def create() -> Response | str:
    form = NewClientForm()
    _prepare(form, None)
    fields = clients.custom_fields()
    duplicates: list[clients.Duplicate] = []
    if form.validate_on_submit():
        values = form.values()
        duplicates = clients.find_duplicates(
            email=values["email"], inn=values["inn"], phone=values["phone"]
        )
        if not duplicates or form.create_anyway.data:
            try:
                custom = {
                    f.id: clients.clean_custom_value(f, v)
                    for f, v in zip(fields, _custom_input(fields).values(), strict=True)
                }
                client = clients.create_client(
                    values,
                    password=form.password.data or secrets.token_urlsafe(24),
                    send_welcome=form.send_welcome.data,
                )
                clients.set_custom_values(client, custom, fields)
            except clients.ClientError as exc:
                _field_error(form, exc)
            else:
                flash(_("Client #%(id)s created.", id=client.id), "success")
                return redirect(url_for("admin_clients.summary", client_id=client.id))
    return render_template(
        "admin/clients/new.html",
        form=form,
        fields=fields,
        values=_custom_input(fields),
        duplicates=duplicates,
    )


def _field_error(form: Any, exc: clients.ClientError) -> None:
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "danger")


def plugin_tabs() -> list[ClientCardTab]:
    """The plugins' tabs (``register_client_card_tabs``) the signed-in staff member may see."""
    found = plugins().by_name("register_client_card_tabs")
    return sorted(
        (t for t in found.values() if t.permission is None or current_user.can(t.permission)),
        key=lambda t: (t.order, t.name),
    )


def _card(client: Client, tab: str, *, template: str | None = None, **context: Any) -> str:
    return render_template(
        template or f"admin/clients/{tab}.html",
        client=client,
        tab=tab,
        tabs=TABS,
        plugin_tabs=plugin_tabs(),
        status_labels=STATUS_LABELS,
        invoice_status_labels=INVOICE_STATUS_LABELS,
        rating_labels=RATING_LABELS,
        legal_labels=LEGAL_TYPE_LABELS,
        tab_counts=payments.client_tab_counts(client.id),
        **context,
    )


@admin_clients.route("/<int:client_id>")
@requires(Permission.CLIENTS_VIEW)
def summary(client_id: int) -> str:
    client = db.session.scalar(
        select(Client)
        .where(Client.id == client_id)
        .options(
            selectinload(Client.group),
            selectinload(Client.manager),
            selectinload(Client.sales_manager),
        )
    )
    if client is None:
        abort(404)
    important = db.session.scalars(
        select(Note)
        .where(Note.client_id == client_id, Note.important.is_(True))
        .options(selectinload(Note.author))
        .order_by(Note.created_at.desc())
    ).all()
    return _card(
        client,
        "summary",
        important=important,
        counts=clients.client_counts(client_id),
        merge_form=MergeForm(),
        financial=clients.has_financial_history(client_id),
        money=invoices.client_invoice_summary(client_id, client.currency),
        order_block=credit_terms.order_block_reason(client, today()),
    )


@admin_clients.route("/<int:client_id>/tab/<name>")
@requires(Permission.CLIENTS_VIEW)
def plugin_tab(client_id: int, name: str) -> str:
    """A plugin's tab of the card: the plugin renders its content for the client."""
    client = _client_or_404(client_id)
    tab = next((t for t in plugin_tabs() if t.name == name), None)
    if tab is None:
        abort(404)
    return _card(
        client,
        f"plugin:{name}",
        template="admin/clients/plugin_tab.html",
        content=tab.render(client),
    )


@admin_clients.route("/<int:client_id>/profile", methods=["GET", "POST"])
@requires(Permission.CLIENTS_VIEW)
def profile(client_id: int) -> Response | str:
    client = _client_or_404(client_id)
    form = ClientForm(obj=client)
    _prepare(form, client)
    fields = clients.custom_fields()
    values = clients.custom_values(client_id)
    if request.method == "POST":
        if not current_user.can(Permission.CLIENTS_EDIT):
            abort(403)
        values = _custom_input(fields)
        if form.validate():
            try:
                changed = clients.update_client(client, form.values())
                clients.set_custom_values(client, values, fields)
            except clients.ClientError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                flash(
                    _("Saved.") if changed else _("Nothing has changed."),
                    "success" if changed else "info",
                )
                return redirect(url_for("admin_clients.profile", client_id=client_id))
    elif client.language is None:
        form.language.data = "ru"
    return _card(client, "profile", form=form, fields=fields, values=values)


@admin_clients.route("/<int:client_id>/contacts", methods=["GET", "POST"])
@requires(Permission.CLIENTS_VIEW)
def contact_list(client_id: int) -> Response | str:
    client = _client_or_404(client_id)
    form = ContactForm()
    if request.method == "POST":
        if not current_user.can(Permission.CLIENTS_EDIT):
            abort(403)
        if form.validate():
            try:
                contacts.add_contact(client, form.data)
            except contacts.ContactError as exc:
                _field_error(form, exc)  # type: ignore[arg-type]
            else:
                flash(_("Contact added."), "success")
                return redirect(url_for("admin_clients.contact_list", client_id=client_id))
    return _card(client, "contacts", contacts=contacts.client_contacts(client_id), form=form)


def _owned_or_404(model: type[Owned], client_id: int, row_id: int) -> Owned:
    """A contact or note of this client; another client's id in the URL is a 404."""
    row = db.session.get(model, row_id)
    if row is None or row.client_id != client_id:
        abort(404)
    return row


@admin_clients.route("/<int:client_id>/contacts/<int:contact_id>", methods=["GET", "POST"])
@requires(Permission.CLIENTS_EDIT)
def contact_edit(client_id: int, contact_id: int) -> Response | str:
    client = _client_or_404(client_id)
    contact = _owned_or_404(Contact, client_id, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            contacts.update_contact(contact, form.data)
        except contacts.ContactError as exc:
            _field_error(form, exc)  # type: ignore[arg-type]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_clients.contact_list", client_id=client_id))
    return _card(client, "contact_edit", contact=contact, form=form)


@admin_clients.route("/<int:client_id>/contacts/<int:contact_id>/delete", methods=["POST"])
@requires(Permission.CLIENTS_EDIT)
def contact_delete(client_id: int, contact_id: int) -> Response:
    contacts.remove_contact(_owned_or_404(Contact, client_id, contact_id))
    flash(_("Contact removed."), "success")
    return redirect(url_for("admin_clients.contact_list", client_id=client_id))


@admin_clients.route("/<int:client_id>/notes", methods=["GET", "POST"])
@requires(Permission.CLIENTS_VIEW)
def note_list(client_id: int) -> Response | str:
    client = _client_or_404(client_id)
    form = NoteForm()
    if form.validate_on_submit():
        notes.add_note(client_id, current_user.id, form.body.data, important=form.important.data)
        flash(_("Note added."), "success")
        return redirect(url_for("admin_clients.note_list", client_id=client_id))
    page = keyset_page(  # important first, then newest (ix_note_client_important_created)
        select(Note).where(Note.client_id == client_id).options(selectinload(Note.author)),
        sort=(Note.important, Note.created_at),
        id_column=Note.id,
    )
    return _card(client, "notes", notes=page, form=form)


@admin_clients.route("/<int:client_id>/notes/<int:note_id>", methods=["GET", "POST"])
@requires(Permission.CLIENTS_VIEW)
def note_edit(client_id: int, note_id: int) -> Response | str:
    client = _client_or_404(client_id)
    note = _owned_or_404(Note, client_id, note_id)
    form = NoteForm(obj=note)
    if form.validate_on_submit():
        notes.edit_note(note, form.body.data, important=form.important.data)
        flash(_("Saved."), "success")
        return redirect(url_for("admin_clients.note_list", client_id=client_id))
    return _card(client, "note_edit", note=note, form=form)


@admin_clients.route("/<int:client_id>/notes/<int:note_id>/delete", methods=["POST"])
@requires(Permission.CLIENTS_EDIT)
def note_delete(client_id: int, note_id: int) -> Response:
    notes.delete_note(_owned_or_404(Note, client_id, note_id))
    flash(_("Note deleted."), "success")
    return redirect(url_for("admin_clients.note_list", client_id=client_id))


@admin_clients.route("/<int:client_id>/log")
@requires(Permission.CLIENTS_VIEW)
def log(client_id: int) -> str:
    client = _client_or_404(client_id)
    page = keyset_page(
        select(AuditEntry).where(AuditEntry.client_id == client_id), id_column=AuditEntry.id
    )
    return _card(client, "log", page=page)


@admin_clients.route("/<int:client_id>/invoices")
@requires(Permission.CLIENTS_VIEW)
def invoice_tab(client_id: int) -> str:
    client = _client_or_404(client_id)
    page = invoices.client_invoices(client_id)
    return _card(client, "invoices", page=page, today=today())


@admin_clients.route("/<int:client_id>/transactions")
@requires(Permission.CLIENTS_VIEW)
def transaction_tab(client_id: int) -> str:
    client = _client_or_404(client_id)
    return _card(
        client,
        "transactions",
        page=payments.client_transactions(client_id),
        credit=payments.credit_balance(client_id, client.currency),
        reason_labels=CREDIT_REASON_LABELS,
    )


@admin_clients.route("/<int:client_id>/services")
@requires(Permission.CLIENTS_VIEW)
def services_tab(client_id: int) -> str:
    return _card(
        _client_or_404(client_id),
        "services",
        services=orders.client_services(client_id),
        service_labels=SERVICE_STATUS_LABELS,
        cycle_labels=CYCLE_LABELS,
    )


@admin_clients.route("/<int:client_id>/tickets")
@requires(Permission.CLIENTS_VIEW)
def ticket_tab(client_id: int) -> str:
    client = _client_or_404(client_id)
    return _card(client, "tickets", tickets=tickets.client_tickets(client_id))


@admin_clients.route("/<int:client_id>/emails")
@requires(Permission.CLIENTS_VIEW)
def email_tab(client_id: int) -> str:
    client = _client_or_404(client_id)
    return _card(client, "emails", emails=outbox.sent_to_client(client_id))


@admin_clients.route("/<int:client_id>/close", methods=["POST"])
@requires(Permission.CLIENTS_EDIT)
def close(client_id: int) -> Response:
    try:
        clients.close_client(_client_or_404(client_id))
    except clients.ClientError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("The client account is closed. Its history is kept."), "success")
    return redirect(url_for("admin_clients.summary", client_id=client_id))


@admin_clients.route("/<int:client_id>/two-factor/reset", methods=["POST"])
@requires(Permission.CLIENTS_EDIT)
def reset_two_factor(client_id: int) -> Response:
    """For a client who lost both the phone and the recovery codes (after checking who asks)."""
    client = _client_or_404(client_id)
    two_factor.reset(current_user._get_current_object(), client)
    flash(_("Two-factor sign-in of %(name)s is off.", name=client.display_name), "success")
    return redirect(url_for("admin_clients.summary", client_id=client_id))


@admin_clients.route("/<int:client_id>/delete", methods=["POST"])
@requires(Permission.CLIENTS_DELETE)
def delete(client_id: int) -> Response:
    try:
        clients.delete_client(_client_or_404(client_id))
    except clients.ClientError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("admin_clients.summary", client_id=client_id))
    flash(_("Client #%(id)s deleted.", id=client_id), "success")
    return redirect(url_for("admin_clients.index"))


@admin_clients.route("/<int:client_id>/merge", methods=["POST"])
@requires(Permission.CLIENTS_MERGE)
def merge(client_id: int) -> Response:
    target = _client_or_404(client_id)
    form = MergeForm()
    if not form.validate() or not form.confirm.data:
        flash(_("Enter the ID of the other client and confirm the merge."), "danger")
        return redirect(url_for("admin_clients.summary", client_id=client_id))
    source = db.session.get(Client, form.source_id.data)
    if source is None:
        flash(_("There is no client #%(id)s.", id=form.source_id.data), "danger")
        return redirect(url_for("admin_clients.summary", client_id=client_id))
    try:
        clients.merge_clients(target, source, staff_id=current_user.id)
    except clients.ClientError as exc:
        flash(str(exc), "danger")
    else:
        flash(
            _("Client #%(source)s merged into #%(target)s.", source=source.id, target=client_id),
            "success",
        )
    return redirect(url_for("admin_clients.summary", client_id=client_id))


@admin_clients.route("/<int:client_id>/login-as", methods=["POST"])
@requires(Permission.CLIENTS_LOGIN_AS)
def login_as(client_id: int) -> Response:
    """Open the client area as this client; audited, with a banner leading back."""
    client = _client_or_404(client_id)
    if not client.is_active:
        flash(_("A closed client cannot be signed in to."), "danger")
        return redirect(url_for("admin_clients.summary", client_id=client_id))
    sign_in(Area.CLIENT, client)
    session[IMPERSONATOR_KEY] = {
        "staff_id": current_user.id,
        "client_id": client.id,
        "name": current_user.full_name,
    }
    clients.record_login_as(client, current_user.id)
    return redirect(url_for("client.dashboard"))


@admin_clients.route("/impersonation/end", methods=["POST"])
@requires()
def end_impersonation() -> Response:
    """One click back from the client area to the client card."""
    from portal.web.identity import sign_out

    info = session.pop(IMPERSONATOR_KEY, None)
    sign_out(Area.CLIENT)
    if not info:
        return redirect(url_for("admin_clients.index"))
    clients.record_login_as_end(info["client_id"])
    return redirect(url_for("admin_clients.summary", client_id=info["client_id"]))
