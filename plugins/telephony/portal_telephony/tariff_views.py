"""Staff pages of tariff administration (``/admin/telephony/tariffs``): tariffs, destinations
uploaded as CSV, versioned rates, minutes packages, client coefficients and PBX tokens.
Reading needs "view billing", changes "manage billing" (a client's terms: "edit clients",
PBX tokens: "manage settings"). Views are thin: :mod:`tariff_admin` does the work."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.plugin_api import (
    Client,
    DiscountError,
    MoneyField,
    Product,
    paginate,
    requires,
    session,
)
from portal_telephony import tariff_admin
from portal_telephony.plans import kind_of
from portal_telephony.rating_models import Destination, IncludedMinutes, Pbx, Prefix, Rate, Tariff
from portal_telephony.rating_views import add_pbx

tariff_pages = Blueprint(
    "telephony_tariffs",
    __name__,
    url_prefix="/admin/telephony",
    template_folder="templates",
    static_folder="static",
    static_url_path="/telephony-static",
)
tariff_pages.portal_area = "admin"  # type: ignore[attr-defined]

ZERO = 0
HHMM = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message=_l("Enter the time as HH:MM."))
MONEY = NumberRange(min=0, max=10**7, message=_l("Enter an amount from 0."))


def money(label: str, required: bool = True) -> MoneyField:
    checks = [InputRequired(message=_l("Enter an amount."))] if required else [Optional()]
    return MoneyField(label, validators=[*checks, MONEY], places=4)


class TariffForm(FlaskForm):
    name = StringField(
        lazy_pgettext("tariff", "Name"), validators=[DataRequired(), Length(max=120)]
    )
    free_under = IntegerField(
        _l("Calls shorter than this are free, seconds"),
        default=3,
        validators=[InputRequired(), NumberRange(min=0, max=600)],
    )
    night_start = StringField(_l("Night from"), default="22:00", validators=[HHMM])
    night_end = StringField(_l("Night until"), default="08:00", validators=[HHMM])
    time_zone = StringField(
        _l("Time zone"), default="Europe/Moscow", validators=[DataRequired(), Length(max=64)]
    )
    is_default = BooleanField(_l("The default tariff"))

    def validate_time_zone(self, field: StringField) -> None:
        if field.data.strip() not in available_timezones():
            raise ValidationError(_("Enter a time zone such as Europe/Moscow."))


class UploadForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired()])


class RateForm(FlaskForm):
    effective_from = DateField(_l("Effective from"), validators=[InputRequired()])
    per_minute = money(_l("Per minute"))
    connect_fee = money(_l("Connect fee"))
    first_increment = IntegerField(
        _l("First increment, s"),
        default=60,
        validators=[InputRequired(), NumberRange(min=1, max=3600)],
    )
    next_increment = IntegerField(
        _l("Next increments, s"),
        default=60,
        validators=[InputRequired(), NumberRange(min=1, max=3600)],
    )
    minimum_charge = money(_l("Minimum charge"))
    night_per_minute = money(_l("Night per minute"), required=False)
    weekend_per_minute = money(_l("Weekend per minute"), required=False)


class PackageForm(FlaskForm):
    product = SelectField(_l("Plan"), coerce=int, choices=[])
    minutes = IntegerField(
        _l("Minutes a month"), validators=[InputRequired(), NumberRange(min=1, max=10**6)]
    )
    groups = StringField(
        _l("Destination groups (comma-separated; empty: all)"), validators=[Length(max=255)]
    )


COEFFICIENT = NumberRange(min=0, max=1000, message=_l("Enter a coefficient from 0."))


def coefficient(label: str) -> MoneyField:
    return MoneyField(label, validators=[InputRequired(), COEFFICIENT], places=4, default=1)


class TermsForm(FlaskForm):
    prepaid = BooleanField(_l("Prepaid"))
    tariff = SelectField(_l("Tariff"), coerce=int, choices=[])
    coefficient_recurring = coefficient(_l("Recurring coefficient"))
    coefficient_setup = coefficient(_l("Setup coefficient"))
    coefficient_duration = coefficient(_l("Per-duration coefficient"))
    low_balance = money(_l("Low balance letter at"))
    credit_limit = money(_l("Credit limit"))


class PbxForm(FlaskForm):
    name = StringField(_l("PBX name"), validators=[DataRequired(), Length(max=60)])


class ActionForm(FlaskForm):
    """A button: CSRF only."""


def tariff_or_404(tariff_id: int) -> Tariff:
    return session().get(Tariff, tariff_id) or abort(404)


def tariff_values(form: TariffForm) -> dict[str, object]:
    return {
        "name": form.name.data.strip(),
        "free_under": form.free_under.data,
        "night_start": form.night_start.data,
        "night_end": form.night_end.data,
        "time_zone": form.time_zone.data.strip(),
        "is_default": bool(form.is_default.data),
    }


def valid_tariff(form: TariffForm, tariff_id: int | None) -> bool:
    if not form.validate_on_submit():
        return False
    if tariff_admin.name_taken(form.name.data.strip(), tariff_id):
        form.name.errors = [_("A tariff with this name already exists.")]
        return False
    return True


@tariff_pages.route("/tariffs")
@requires("billing.view")
def tariffs() -> str:
    rows = session().scalars(select(Tariff).order_by(Tariff.name)).all()
    return render_template("telephony/admin_tariffs.html", tariffs=rows, form=TariffForm())


@tariff_pages.route("/tariffs", methods=["POST"])
@requires("billing.manage")
def tariff_create() -> Response | str:
    form = TariffForm()
    if valid_tariff(form, None):
        tariff = tariff_admin.save_tariff(None, currency="RUB", **tariff_values(form))
        flash(_("The tariff is saved."), "success")
        return redirect(url_for(".tariff", tariff_id=tariff.id))
    rows = session().scalars(select(Tariff).order_by(Tariff.name)).all()
    return render_template("telephony/admin_tariffs.html", tariffs=rows, form=form)


def tariff_page(
    tariff: Tariff,
    form: TariffForm | None = None,
    upload: UploadForm | None = None,
    errors: list[str] | None = None,
) -> str:
    # keyset pages by group then name: a tariff can price thousands of destinations; the rows
    # of one tariff are read by ``(tariff_id, name)`` and sorted (docs/performance.md)
    destinations = paginate(
        select(Destination).where(Destination.tariff_id == tariff.id),
        sort=(Destination.group_name, Destination.name),
        id_column=Destination.id,
        descending=False,
    )
    ids = [d.id for d in destinations]
    prefixes: dict[int, list[str]] = {}
    for destination_id, prefix in session().execute(
        select(Prefix.destination_id, Prefix.prefix)
        .where(Prefix.destination_id.in_(ids))
        .order_by(Prefix.prefix)
    ):
        prefixes.setdefault(destination_id, []).append(prefix)
    latest: dict[int, Rate] = {}
    for rate in session().scalars(
        select(Rate).where(Rate.destination_id.in_(ids)).order_by(Rate.effective_from)
    ):
        latest[rate.destination_id] = rate
    return render_template(
        "telephony/admin_tariff.html",
        tariff=tariff,
        form=form or TariffForm(obj=tariff),
        upload=upload or UploadForm(),
        errors=errors or [],
        destinations=destinations,
        prefixes=prefixes,
        latest=latest,
    )


@tariff_pages.route("/tariffs/<int:tariff_id>")
@requires("billing.view")
def tariff(tariff_id: int) -> str:
    return tariff_page(tariff_or_404(tariff_id))


@tariff_pages.route("/tariffs/<int:tariff_id>", methods=["POST"])
@requires("billing.manage")
def tariff_edit(tariff_id: int) -> Response | str:
    tariff = tariff_or_404(tariff_id)
    form = TariffForm()
    if valid_tariff(form, tariff.id):
        tariff_admin.save_tariff(tariff, **tariff_values(form))
        flash(_("The tariff is saved."), "success")
        return redirect(url_for(".tariff", tariff_id=tariff.id))
    return tariff_page(tariff, form=form)


@tariff_pages.route("/tariffs/<int:tariff_id>/destinations", methods=["POST"])
@requires("billing.manage")
def destinations_upload(tariff_id: int) -> Response | str:
    tariff = tariff_or_404(tariff_id)
    upload = UploadForm()
    if not upload.validate_on_submit():
        return tariff_page(tariff, upload=upload)
    raw = upload.file.data.read(5 * 1024 * 1024 + 1)
    if len(raw) > 5 * 1024 * 1024:
        return tariff_page(tariff, upload=upload, errors=[_("The file is larger than 5 MB.")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1251")
        except UnicodeDecodeError:
            return tariff_page(
                tariff, upload=upload, errors=[_("The file is not text in UTF-8 or Windows-1251.")]
            )
    parsed = tariff_admin.parse_destinations(text)
    if parsed.errors:
        return tariff_page(tariff, upload=upload, errors=parsed.errors)
    count = tariff_admin.import_destinations(tariff, parsed.rows)
    flash(_("Destinations imported: %(count)s.", count=count), "success")
    return redirect(url_for(".tariff", tariff_id=tariff.id))


def destination_or_404(destination_id: int) -> Destination:
    return session().get(Destination, destination_id) or abort(404)


def destination_page(destination: Destination, form: RateForm | None = None) -> str:
    return render_template(
        "telephony/admin_destination.html",
        destination=destination,
        tariff=tariff_or_404(destination.tariff_id),
        rates=tariff_admin.rates_of(destination.id),
        form=form or RateForm(),
    )


@tariff_pages.route("/destinations/<int:destination_id>")
@requires("billing.view")
def destination(destination_id: int) -> str:
    return destination_page(destination_or_404(destination_id))


@tariff_pages.route("/destinations/<int:destination_id>/rates", methods=["POST"])
@requires("billing.manage")
def rate_add(destination_id: int) -> Response | str:
    destination = destination_or_404(destination_id)
    form = RateForm()
    if not form.validate_on_submit():
        return destination_page(destination, form)
    # 00:00 of that day where the tariff's calls are read (README, "Tariff administration")
    zone = ZoneInfo(tariff_or_404(destination.tariff_id).time_zone)
    moment = datetime.combine(form.effective_from.data, time(0), tzinfo=zone).astimezone(UTC)
    try:
        tariff_admin.add_rate(
            destination,
            moment,
            per_minute=form.per_minute.data,
            connect_fee=form.connect_fee.data,
            first_increment=form.first_increment.data,
            next_increment=form.next_increment.data,
            minimum_charge=form.minimum_charge.data,
            night_per_minute=form.night_per_minute.data,
            weekend_per_minute=form.weekend_per_minute.data,
        )
    except tariff_admin.RateExists:
        form.effective_from.errors = [
            _(
                "A rate from this date already exists; rates are not edited, "
                "add one from another date."
            )
        ]
        return destination_page(destination, form)
    flash(_("The new rate is saved."), "success")
    return redirect(url_for(".destination", destination_id=destination.id))


def plan_products() -> list[Product]:
    return [
        p for p in session().scalars(select(Product).order_by(Product.name)) if kind_of(p) == "plan"
    ]


def packages_page(form: PackageForm | None = None) -> str:
    form = form or PackageForm()
    plans = plan_products()
    form.product.choices = [(p.id, p.name) for p in plans]
    names = {p.id: p.name for p in plans}
    rows = session().scalars(select(IncludedMinutes).order_by(IncludedMinutes.product_id)).all()
    return render_template(
        "telephony/admin_packages.html", form=form, packages=rows, names=names, action=ActionForm()
    )


@tariff_pages.route("/packages")
@requires("billing.view")
def packages() -> str:
    return packages_page()


@tariff_pages.route("/packages", methods=["POST"])
@requires("billing.manage")
def package_add() -> Response | str:
    form = PackageForm()
    form.product.choices = [(p.id, p.name) for p in plan_products()]
    if not form.validate_on_submit():
        return packages_page(form)
    tariff_admin.add_package(form.product.data, form.minutes.data, form.groups.data or "")
    flash(_("The minutes package is saved."), "success")
    return redirect(url_for(".packages"))


@tariff_pages.route("/packages/<int:package_id>/delete", methods=["POST"])
@requires("billing.manage")
def package_delete(package_id: int) -> Response:
    if ActionForm().validate_on_submit():
        tariff_admin.remove_package(package_id)
        flash(_("The minutes package is removed."), "success")
    return redirect(url_for(".packages"))


def terms_page(client: Client, form: TermsForm) -> str:
    tariffs = session().scalars(select(Tariff).order_by(Tariff.name)).all()
    form.tariff.choices = [(0, _("The default tariff")), *((t.id, t.name) for t in tariffs)]
    return render_template("telephony/admin_terms.html", client=client, form=form)


@tariff_pages.route("/clients/<int:client_id>/terms")
@requires("clients.view")
def terms(client_id: int) -> str:
    client = session().get(Client, client_id) or abort(404)
    current = tariff_admin.terms_of(client.id)
    form = TermsForm(obj=current)
    form.tariff.data = current.tariff_id or 0
    return terms_page(client, form)


@tariff_pages.route("/clients/<int:client_id>/terms", methods=["POST"])
@requires("clients.edit")
def terms_save(client_id: int) -> Response | str:
    client = session().get(Client, client_id) or abort(404)
    form = TermsForm()
    terms_page(client, form)  # fills the tariff choices before validation
    if not form.validate_on_submit():
        return terms_page(client, form)
    try:
        tariff_admin.apply_recurring_coefficient(client, form.coefficient_recurring.data)
    except DiscountError as error:
        form.coefficient_recurring.errors = [str(error)]
        return terms_page(client, form)
    tariff_admin.save_terms(
        client.id,
        prepaid=bool(form.prepaid.data),
        tariff_id=form.tariff.data or None,
        coefficient_recurring=form.coefficient_recurring.data,
        coefficient_setup=form.coefficient_setup.data,
        coefficient_duration=form.coefficient_duration.data,
        low_balance=form.low_balance.data,
        credit_limit=form.credit_limit.data,
    )
    flash(_("The client's telephony terms are saved."), "success")
    return redirect(url_for(".terms", client_id=client.id))


def pbx_page(form: PbxForm | None = None, token: str | None = None) -> str:
    rows = session().scalars(select(Pbx).order_by(Pbx.name)).all()
    return render_template(
        "telephony/admin_pbx.html",
        form=form or PbxForm(),
        pbxs=rows,
        token=token,
        action=ActionForm(),
    )


@tariff_pages.route("/pbx")
@requires("settings.manage")
def pbx() -> str:
    return pbx_page()


@tariff_pages.route("/pbx", methods=["POST"])
@requires("settings.manage")
def pbx_create() -> str:
    form = PbxForm()
    if not form.validate_on_submit():
        return pbx_page(form)
    name = form.name.data.strip()
    if session().scalar(select(Pbx.id).where(Pbx.name == name)) is not None:
        form.name.errors = [_("A PBX with this name already exists.")]
        return pbx_page(form)
    token = add_pbx(name)
    return pbx_page(PbxForm(formdata=None), token=token)


@tariff_pages.route("/pbx/<int:pbx_id>/revoke", methods=["POST"])
@requires("settings.manage")
def pbx_revoke(pbx_id: int) -> Response:
    if ActionForm().validate_on_submit() and tariff_admin.revoke_pbx(pbx_id):
        flash(_("The token is revoked."), "success")
    return redirect(url_for(".pbx"))
