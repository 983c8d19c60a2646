"""Client-area views. Sign-in is required for all of them (portal.web.identity); every query
here is scoped to ``current_user``, the signed-in client."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from portal.accounts import client_profile, clients, contacts, two_factor
from portal.accounts.client.forms import (
    EmailChangeForm,
    EnrolForm,
    PasswordChangeForm,
    ProfileForm,
)
from portal.accounts.forms import AppCodeForm, ContactForm, PasswordSecondFactorForm
from portal.accounts.models.contact import Contact
from portal.core.app_state import plugins
from portal.core.clock import today
from portal.core.extensions import db
from portal.web import identity
from portal.web.identity import Area

client = Blueprint("client", __name__)
client.portal_area = Area.CLIENT  # type: ignore[attr-defined]


#: Rows of each list the dashboard shows before "all N" links to the full page.
DASHBOARD_ROWS = 5
#: Documents the dashboard lists (the Documents and Invoices pages hold the rest).
DASHBOARD_DOCUMENTS = 10


def _last_month_start(day: date) -> date:
    """The first day of the month before ``day``'s: the dashboard's documents start there, so
    last month's closing documents stay in view all through this month."""
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


@client.route("/")
def dashboard() -> str:
    """What a client comes for, in a constant number of queries (tests/web/test_client_dashboard
    counts them): services and their next due dates, invoices to pay, open tickets, the credit
    balance, recent documents, quick actions; then the plugins' panels. See
    docs/clients.md, "The client dashboard"."""
    from portal.catalog.catalog import CYCLE_LABELS
    from portal.invoicing import client_summary
    from portal.orders import orders
    from portal.orders.models.service import SERVICE_STATUS_LABELS
    from portal.support import tickets

    me = current_user.id
    now = today()
    since = _last_month_start(now)
    services, service_count = orders.upcoming_services(me, DASHBOARD_ROWS)
    open_tickets, ticket_count = tickets.client_open_tickets(me, DASHBOARD_ROWS)
    panels = sorted(plugins().collect("register_client_area_panels"), key=lambda p: p.order)
    return render_template(
        "client/dashboard.html",
        panels=panels,
        today=now,
        services=services,
        service_count=service_count,
        service_labels=SERVICE_STATUS_LABELS,
        cycle_labels=CYCLE_LABELS,
        unpaid=client_summary.due_invoices(me, DASHBOARD_ROWS),
        due_totals=client_summary.due_totals(me),
        credits=client_summary.credit_by_currency(me, current_user.currency),
        tickets=open_tickets,
        ticket_count=ticket_count,
        documents_since=since,
        documents=client_summary.recent_documents(me, since, DASHBOARD_DOCUMENTS),
    )


@client.route("/profile", methods=["GET", "POST"])
def profile() -> Response | str:
    editable = client_profile.editable_fields()
    form = ProfileForm(obj=current_user)
    for name in list(form._fields):
        if name not in (*editable, "csrf_token"):
            delattr(form, name)
    fields = clients.custom_fields(client_visible_only=True)
    values = clients.custom_values(current_user.id)
    if request.method == "POST":
        values = {f.id: request.form.get(f"custom_{f.id}", "") for f in fields}
        if form.validate():
            try:
                client_profile.update_own_profile(current_user, form.data)
                clients.set_custom_values(current_user, values, fields)
            except clients.ClientError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("client.profile"))
    return render_template(
        "client/profile.html",
        form=form,
        fields=fields,
        values=values,
        email_form=EmailChangeForm(),
        password_form=PasswordChangeForm(),
    )


@client.route("/profile/email", methods=["POST"])
def change_email() -> Response | str:
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            client_profile.request_email_change(current_user, form.email.data)
        except clients.ClientError as exc:
            flash(str(exc), "danger")
        except OSError:
            flash(_("The e-mail could not be sent right now. Please try again later."), "danger")
        else:
            flash(
                _(
                    "We have sent a confirmation link to %(email)s. The e-mail changes when you "
                    "open it.",
                    email=form.email.data,
                ),
                "info",
            )
    else:
        flash(_("Enter a valid e-mail address."), "danger")
    return redirect(url_for("client.profile"))


@client.route("/profile/email/<token>")
def confirm_email(token: str) -> Response:
    if client_profile.confirm_email_change(current_user, token):
        flash(_("Your e-mail is now %(email)s.", email=current_user.email), "success")
    else:
        flash(_("This confirmation link is invalid or has expired."), "danger")
    return redirect(url_for("client.profile"))


@client.route("/profile/password", methods=["POST"])
def change_password() -> Response:
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(url_for("client.profile"))
    try:
        client_profile.change_password(current_user, form.current_password.data, form.password.data)
    except clients.ClientError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("client.profile"))
    from portal.web.identity import sign_in

    sign_in(Area.CLIENT, current_user)  # stay signed in here; other sessions end
    flash(_("Your password has been changed."), "success")
    return redirect(url_for("client.profile"))


# --- two-factor sign-in (docs/security.md, "Two-factor sign-in and secrets at rest") ---------


@client.route("/profile/two-factor")
def two_factor_page() -> str:
    return render_template(
        "client/two_factor.html",
        **two_factor.page_values(current_user),
        enrol_form=EnrolForm(),
        code_form=AppCodeForm(),
        change_form=PasswordSecondFactorForm(),
    )


def _back_to_two_factor() -> Response:
    return redirect(url_for("client.two_factor_page"))


def _show_recovery_codes(codes: list[str]) -> Response:
    """The new recovery codes, this once; never cached."""
    response = make_response(render_template("client/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


def _flash_form_errors(form: FlaskForm) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "danger")


@client.route("/profile/two-factor/enrol", methods=["POST"])
def two_factor_enrol() -> Response:
    if EnrolForm().validate_on_submit() and not current_user.two_factor_enabled:
        two_factor.start_enrolment(current_user)
    return _back_to_two_factor()


@client.route("/profile/two-factor/cancel", methods=["POST"])
def two_factor_cancel() -> Response:
    if EnrolForm().validate_on_submit():
        two_factor.cancel_enrolment(current_user)
    return _back_to_two_factor()


@client.route("/profile/two-factor/confirm", methods=["POST"])
@two_factor.limit_changes
def two_factor_confirm() -> Response:
    form = AppCodeForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back_to_two_factor()
    try:
        codes = two_factor.confirm_enrolment(current_user, form.code.data)
    except two_factor.TwoFactorError as exc:
        flash(str(exc), "danger")
        return _back_to_two_factor()
    identity.sign_in(Area.CLIENT, current_user)  # other sessions end, this one stays
    flash(_("Two-factor sign-in is on."), "success")
    return _show_recovery_codes(codes)


@client.route("/profile/two-factor/recovery-codes", methods=["POST"])
@two_factor.limit_changes
def two_factor_recovery_codes() -> Response:
    form = PasswordSecondFactorForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back_to_two_factor()
    try:
        codes = two_factor.regenerate_recovery_codes(
            current_user, form.code.data, password=form.password.data
        )
    except two_factor.TwoFactorError as exc:
        flash(str(exc), "danger")
        return _back_to_two_factor()
    return _show_recovery_codes(codes)


@client.route("/profile/two-factor/disable", methods=["POST"])
@two_factor.limit_changes
def two_factor_disable() -> Response:
    form = PasswordSecondFactorForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back_to_two_factor()
    try:
        two_factor.disable(current_user, form.code.data, password=form.password.data)
    except two_factor.TwoFactorError as exc:
        flash(str(exc), "danger")
    else:
        identity.sign_in(Area.CLIENT, current_user)  # other sessions end, this one stays
        flash(_("Two-factor sign-in is off."), "success")
    return _back_to_two_factor()


@client.route("/contacts", methods=["GET", "POST"])
def contact_list() -> Response | str:
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contacts.add_contact(current_user, form.data)
        except contacts.ContactError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Contact added."), "success")
            return redirect(url_for("client.contact_list"))
    page = contacts.client_contacts(current_user.id)
    return render_template("client/contacts.html", contacts=page, form=form)


def _own_contact(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.client_id != current_user.id:
        abort(404)
    return contact


@client.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
def contact_edit(contact_id: int) -> Response | str:
    contact = _own_contact(contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            contacts.update_contact(contact, form.data)
        except contacts.ContactError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("client.contact_list"))
    return render_template("client/contact_edit.html", contact=contact, form=form)


@client.route("/contacts/<int:contact_id>/delete", methods=["POST"])
def contact_delete(contact_id: int) -> Response:
    contacts.remove_contact(_own_contact(contact_id))
    flash(_("Contact removed."), "success")
    return redirect(url_for("client.contact_list"))
