"""Admin pages for staff, roles, departments, security settings, one's own profile (two-factor
enrolment) and the audit log.

The rules about who may grant what live in ``portal.accounts.staff``; these views only map
forms to service calls and refusals to form errors. The blueprint also installs, for the whole
admin area, the ``can()`` template helper and the redirect that keeps staff without two-factor
authentication on the enrolment page while an administrator requires it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.accounts import audit, audit_sentences, two_factor
from portal.accounts import staff as staff_service
from portal.accounts.forms import AppCodeForm, SecondFactorForm
from portal.accounts.models import Department, Permission, Role, Staff
from portal.accounts.staff import StaffError
from portal.accounts.staff_forms import (
    MAX_ID,
    AuditFilterForm,
    ConfirmForm,
    DepartmentForm,
    NewStaffForm,
    RoleForm,
    SecurityForm,
    StaffForm,
)
from portal.core.extensions import db
from portal.web import identity
from portal.web.csv_export import csv_response
from portal.web.i18n import available_locales
from portal.web.identity import Area, request_area
from portal.web.permissions import can, requires
from portal.web.query_args import page_arg

staff_admin = Blueprint("staff_admin", __name__, url_prefix="/admin")
staff_admin.portal_area = Area.ADMIN  # type: ignore[attr-defined]
staff_admin.add_app_template_global(can, "can")


@staff_admin.before_request
def _mark_online() -> None:
    """Note who is online (the admin dashboard lists them)."""
    staff_service.note_online(current_user._get_current_object())


#: What a staff member may open while two-factor enrolment is required of them.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "staff_admin.profile",
        "staff_admin.two_factor_enrol",
        "staff_admin.two_factor_confirm",
        "staff_admin.two_factor_cancel",
    }
)
AUDIT_PAGE_SIZE = 50


@staff_admin.before_app_request
def _require_two_factor() -> Response | None:
    """While 2FA is required, a signed-in staff member without it can only enrol (or leave)."""
    if request_area() is not Area.ADMIN or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    blueprint = current_app.blueprints.get((request.blueprint or "").split(".")[0])
    if getattr(blueprint, "portal_public", False):
        return None
    staff = current_user._get_current_object()
    if not isinstance(staff, Staff) or staff.two_factor_enabled or not two_factor.required():
        return None
    flash(_("Two-factor authentication is required: set it up to continue."), "warning")
    return redirect(url_for("staff_admin.profile"))


def _me() -> Staff:
    staff = current_user._get_current_object()
    assert isinstance(staff, Staff)
    return staff


def _refused(form: Any, exc: StaffError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "danger")


def _or_404(model: type[Any], object_id: int) -> Any:
    if object_id > MAX_ID:  # PostgreSQL would refuse the comparison with a 32-bit column
        abort(404)
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


# --- staff ------------------------------------------------------------------------------------


def _language_choices() -> list[tuple[str, str]]:
    return [("", _("Browser language"))] + [
        (code, Locale.parse(code).get_display_name(code).capitalize())
        for code in available_locales()
    ]


def _fill_choices(form: StaffForm) -> None:
    form.role.choices = [(role.id, role.display_name) for role in staff_service.roles()]
    form.departments.choices = [(d.id, d.name) for d in staff_service.departments()]
    form.language.choices = _language_choices()


@staff_admin.route("/staff")
@requires(Permission.STAFF_MANAGE)
def staff_list() -> str:
    show_blocked = request.args.get("blocked") == "1"
    search = request.args.get("q", "")
    stmt = staff_service.staff_query(include_blocked=show_blocked, search=search)
    page = db.paginate(stmt, per_page=50, page=page_arg(), error_out=False)
    return render_template(
        "admin/staff/list.html", page=page, show_blocked=show_blocked, q=search.strip()
    )


@staff_admin.route("/staff/new", methods=["GET", "POST"])
@requires(Permission.STAFF_MANAGE)
def staff_create() -> Response | str:
    form = NewStaffForm()
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            staff = staff_service.create_staff_member(
                _me(),
                email=form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data or "",
                password=form.password.data,
                role=_or_404(Role, form.role.data),
                department_ids=form.departments.data or [],
                language=form.language.data or None,
                is_active=not form.blocked.data,
            )
        except StaffError as exc:
            _refused(form, exc)
        else:
            flash(_("Staff member %(name)s has been created.", name=staff.full_name), "success")
            return redirect(url_for("staff_admin.staff_list"))
    return render_template("admin/staff/edit.html", form=form, member=None)


@staff_admin.route("/staff/<int:staff_id>", methods=["GET", "POST"])
@requires(Permission.STAFF_MANAGE)
def staff_edit(staff_id: int) -> Response | str:
    member: Staff = _or_404(Staff, staff_id)
    form = StaffForm()
    _fill_choices(form)
    if request.method == "GET":
        form.first_name.data = member.first_name
        form.last_name.data = member.last_name
        form.email.data = member.email
        form.role.data = member.role_id
        form.departments.data = [d.id for d in member.departments]
        form.language.data = member.language or ""
        form.blocked.data = not member.is_active
    if form.validate_on_submit():
        try:
            staff_service.update_staff_member(
                _me(),
                member,
                email=form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data or "",
                role=_or_404(Role, form.role.data),
                department_ids=form.departments.data or [],
                language=form.language.data or None,
                is_active=not form.blocked.data,
                new_password=form.password.data or None,
            )
        except StaffError as exc:
            db.session.rollback()
            _refused(form, exc)
        else:
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("staff_admin.staff_edit", staff_id=member.id))
    return render_template("admin/staff/edit.html", form=form, member=member, confirm=ConfirmForm())


@staff_admin.route("/staff/<int:staff_id>/two-factor/reset", methods=["POST"])
@requires(Permission.STAFF_MANAGE)
def staff_reset_two_factor(staff_id: int) -> Response:
    member: Staff = _or_404(Staff, staff_id)
    if ConfirmForm().validate_on_submit():
        try:
            two_factor.reset(_me(), member)
        except StaffError as exc:
            flash(str(exc), "danger")
        else:
            flash(
                _("Two-factor authentication of %(name)s is off.", name=member.full_name),
                "success",
            )
    return redirect(url_for("staff_admin.staff_edit", staff_id=member.id))


# --- roles ------------------------------------------------------------------------------------


@staff_admin.route("/roles")
@requires(Permission.STAFF_MANAGE)
def role_list() -> str:
    return render_template(
        "admin/staff/roles.html",
        roles=staff_service.roles(),
        counts=staff_service.role_staff_counts(),
        all_permissions=list(Permission),
        confirm=ConfirmForm(),
    )


def _role_form(role: Role | None) -> Response | str:
    form = RoleForm()
    form.permissions.choices = [(p.value, str(p.label)) for p in Permission]
    if request.method == "GET" and role is not None:
        form.name.data = role.name
        form.description.data = role.description
        form.permissions.data = sorted(role.permissions)
    if form.validate_on_submit():
        try:
            saved = staff_service.save_role(
                _me(),
                role,
                name=form.name.data,
                description=form.description.data or "",
                permissions=form.permissions.data or [],
            )
        except StaffError as exc:
            db.session.rollback()
            _refused(form, exc)
        else:
            flash(_("Role %(name)s has been saved.", name=saved.display_name), "success")
            return redirect(url_for("staff_admin.role_list"))
    return render_template(
        "admin/staff/role_edit.html",
        form=form,
        role=role,
        all_permissions=list(Permission),
        held=_me().permissions,
    )


@staff_admin.route("/roles/new", methods=["GET", "POST"])
@requires(Permission.STAFF_MANAGE)
def role_create() -> Response | str:
    return _role_form(None)


@staff_admin.route("/roles/<int:role_id>", methods=["GET", "POST"])
@requires(Permission.STAFF_MANAGE)
def role_edit(role_id: int) -> Response | str:
    return _role_form(_or_404(Role, role_id))


@staff_admin.route("/roles/<int:role_id>/delete", methods=["POST"])
@requires(Permission.STAFF_MANAGE)
def role_delete(role_id: int) -> Response:
    role: Role = _or_404(Role, role_id)
    if ConfirmForm().validate_on_submit():
        try:
            staff_service.delete_role(_me(), role)
        except StaffError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("The role has been deleted."), "success")
    return redirect(url_for("staff_admin.role_list"))


# --- departments ------------------------------------------------------------------------------


@staff_admin.route("/departments")
@requires(Permission.STAFF_MANAGE)
def department_list() -> str:
    return render_template(
        "admin/staff/departments.html",
        departments=staff_service.departments(),
        confirm=ConfirmForm(),
    )


def _department_form(department: Department | None) -> Response | str:
    form = DepartmentForm(obj=department if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            staff_service.save_department(
                department,
                name=form.name.data,
                email=form.email.data or "",
                hidden=form.hidden.data,
            )
        except StaffError as exc:
            db.session.rollback()
            _refused(form, exc)
        else:
            flash(_("The department has been saved."), "success")
            return redirect(url_for("staff_admin.department_list"))
    return render_template("admin/staff/department_edit.html", form=form, department=department)


@staff_admin.route("/departments/new", methods=["GET", "POST"])
@requires(Permission.STAFF_MANAGE)
def department_create() -> Response | str:
    return _department_form(None)


@staff_admin.route("/departments/<int:department_id>", methods=["GET", "POST"])
@requires(Permission.STAFF_MANAGE)
def department_edit(department_id: int) -> Response | str:
    return _department_form(_or_404(Department, department_id))


@staff_admin.route("/departments/<int:department_id>/delete", methods=["POST"])
@requires(Permission.STAFF_MANAGE)
def department_delete(department_id: int) -> Response:
    department: Department = _or_404(Department, department_id)
    if ConfirmForm().validate_on_submit():
        staff_service.delete_department(department)
        flash(_("The department has been deleted."), "success")
    return redirect(url_for("staff_admin.department_list"))


# --- security settings ------------------------------------------------------------------------


@staff_admin.route("/settings/security", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def security() -> Response | str:
    form = SecurityForm()
    if request.method == "GET":
        form.require_two_factor.data = two_factor.required()
    if form.validate_on_submit():
        two_factor.set_required(form.require_two_factor.data)
        flash(_("The security settings have been saved."), "success")
        return redirect(url_for("staff_admin.security"))
    without = db.session.scalars(
        select(Staff)
        .where(Staff.is_active.is_(True), Staff.totp_enabled_at.is_(None))
        .order_by(Staff.first_name, Staff.id)
    ).all()
    return render_template("admin/staff/security.html", form=form, without=without)


# --- own profile and two-factor enrolment -----------------------------------------------------


@staff_admin.route("/profile")
@requires()
def profile() -> str:
    me = _me()
    return render_template(
        "admin/two_factor.html",
        me=me,
        **two_factor.page_values(me),
        code_form=AppCodeForm(),
        proof_form=SecondFactorForm(),
        confirm=ConfirmForm(),
        required=two_factor.required(),
    )


def _show_recovery_codes(codes: list[str]) -> Response:
    """The new recovery codes, this once (never stored in a form anyone can read back)."""
    response = make_response(render_template("admin/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@staff_admin.route("/profile/two-factor/enrol", methods=["POST"])
@requires()
def two_factor_enrol() -> Response:
    me = _me()
    if ConfirmForm().validate_on_submit() and not me.two_factor_enabled:
        two_factor.start_enrolment(me)
    return redirect(url_for("staff_admin.profile"))


@staff_admin.route("/profile/two-factor/confirm", methods=["POST"])
@requires()
@two_factor.limit_changes
def two_factor_confirm() -> Response:
    form = AppCodeForm()
    if form.validate_on_submit():
        me = _me()
        try:
            codes = two_factor.confirm_enrolment(me, form.code.data)
        except two_factor.TwoFactorError as exc:
            flash(str(exc), "danger")
        else:
            identity.sign_in(Area.ADMIN, me)  # other sessions end, this one stays
            flash(_("Two-factor authentication is on."), "success")
            return _show_recovery_codes(codes)
    else:
        flash(_("Wrong or already used code."), "danger")
    return redirect(url_for("staff_admin.profile"))


@staff_admin.route("/profile/two-factor/cancel", methods=["POST"])
@requires()
def two_factor_cancel() -> Response:
    if ConfirmForm().validate_on_submit():
        two_factor.cancel_enrolment(_me())
    return redirect(url_for("staff_admin.profile"))


@staff_admin.route("/profile/two-factor/recovery-codes", methods=["POST"])
@requires()
@two_factor.limit_changes
def two_factor_recovery_codes() -> Response:
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(_me(), form.code.data)
        except two_factor.TwoFactorError as exc:
            flash(str(exc), "danger")
        else:
            return _show_recovery_codes(codes)
    else:
        flash(_("Wrong or already used code."), "danger")
    return redirect(url_for("staff_admin.profile"))


@staff_admin.route("/profile/two-factor/disable", methods=["POST"])
@requires()
@two_factor.limit_changes
def two_factor_disable() -> Response:
    form = SecondFactorForm()
    if two_factor.required():
        flash(_("Two-factor authentication is required for all staff."), "danger")
    elif form.validate_on_submit():
        me = _me()
        try:
            two_factor.disable(me, form.code.data)
        except two_factor.TwoFactorError as exc:
            flash(str(exc), "danger")
        else:
            identity.sign_in(Area.ADMIN, me)  # other sessions end, this one stays
            flash(_("Two-factor authentication is off."), "success")
    else:
        flash(_("Wrong or already used code."), "danger")
    return redirect(url_for("staff_admin.profile"))


# --- audit log --------------------------------------------------------------------------------


def _day_start(day: Any) -> datetime:
    """Midnight of a business date in the provider's time zone, as an aware datetime."""
    zone = ZoneInfo(current_app.config["PORTAL"]["default_timezone"])
    return datetime.combine(day, time.min, tzinfo=zone)


@staff_admin.route("/audit")
@requires(Permission.AUDIT_VIEW)
def audit_log() -> Response | str:
    form = AuditFilterForm(request.args)
    filters: dict[str, Any] = {}
    if form.validate():
        filters = {
            "actor": form.actor.data or "",
            "action": form.action.data or "",
            "entity": form.entity.data or "",
            "entity_id": form.entity_id.data or "",
            "client_id": form.client_id.data,
            "since": _day_start(form.since.data) if form.since.data else None,
            "until": _day_start(form.until.data + timedelta(days=1)) if form.until.data else None,
        }
    stmt = audit.search(**filters)
    if request.args.get("format") == "csv":
        return csv_response(
            "audit-log.csv",
            [
                _("Time"),
                _("Who"),
                _("IP address"),
                _("Action"),
                _("Object"),
                _("Object ID"),
                _("Client ID"),
                _("Field"),
                _("Before"),
                _("After"),
                _("Note"),
                _("What happened"),
            ],
            _csv_rows(db.session.scalars(stmt)),
        )
    page = db.paginate(stmt, per_page=AUDIT_PAGE_SIZE, page=page_arg(), error_out=False)
    args = {key: value for key, value in request.args.items() if key not in ("page", "format")}
    return render_template(
        "admin/audit/list.html",
        page=page,
        form=form,
        args=args,
        actions=audit.known_actions(),
    )


def _csv_rows(entries: Any) -> Any:
    """One row per changed field, so a spreadsheet can filter on it."""
    zone = ZoneInfo(current_app.config["PORTAL"]["default_timezone"])
    for entry in entries:
        head = [
            entry.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            audit_sentences.actor(entry),
            entry.ip,
            entry.action,
            entry.entity,
            entry.entity_id,
            entry.client_id,
        ]
        sentence = audit_sentences.sentence(entry)
        changes = audit_sentences.changes(entry) or [("", "", "", "")]
        for _name, label, before, after in changes:
            yield [*head, label, before, after, entry.note, sentence]
