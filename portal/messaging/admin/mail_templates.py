"""Settings → E-mail templates: the list, and an editor per template and language with a live
preview on sample data and "Reset to built-in"."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.accounts.models.permissions import Permission
from portal.messaging import mail_templates
from portal.messaging.templates import TEMPLATES, VARIABLE_HELP, MailTemplateError, MailTemplateSpec
from portal.web.identity import Area
from portal.web.permissions import requires

admin_mail_templates = Blueprint(
    "admin_mail_templates", __name__, url_prefix="/admin/settings/mail-templates"
)
admin_mail_templates.portal_area = Area.ADMIN  # type: ignore[attr-defined]


#: A template's names in a help text: ``first_name``, ``product.name``, ``money(currency)``,
#: ``_("text")``; in English any lowercase word may be one, so only those with ``_ . (``.
_IDENTIFIER = re.compile(r'_\("[^"]*"\)|\b[a-z][a-z0-9]*(?:[_.][a-z0-9_]+|\([a-z]+\))*')
_MARKED = re.compile(r"_\(|[_.(]")


@admin_mail_templates.app_template_filter("identifiers_as_code")
def identifiers_as_code(text: Any) -> Markup:
    """A help text with the template's variable and filter names set as ``<code>``: they are
    typed as they are, in every language, and are not words to translate."""
    english = str(get_locale()).startswith("en")
    text, parts, end = str(text), [], 0
    for match in _IDENTIFIER.finditer(text):
        name = match.group(0)
        if english and not _MARKED.search(name):
            continue
        parts += [escape(text[end : match.start()]), Markup("<code>%s</code>") % name]
        end = match.end()
    parts.append(escape(text[end:]))
    return Markup("").join(parts)


class MailTemplateForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=500)])
    body = TextAreaField(_l("Body"), validators=[DataRequired(), Length(max=100_000)])


def _spec_or_404(name: str, locale: str) -> MailTemplateSpec:
    spec = mail_templates.spec_for(name, locale)
    if spec is None:
        abort(404)
    return spec


def _refuse(form: MailTemplateForm, exc: MailTemplateError) -> None:
    """Show Jinja's message on the field it belongs to; the text stays in the form."""
    field = form.subject if exc.field == "subject" else form.body
    field.errors = [*field.errors, str(exc)]


def _preview(spec: MailTemplateSpec, locale: str, form: MailTemplateForm) -> tuple[str, str] | None:
    """The draft in the form rendered with sample data (None and an error on the form)."""
    try:
        return mail_templates.preview(spec.name, locale, form.subject.data, form.body.data)
    except MailTemplateError as exc:
        _refuse(form, exc)
        return None


@admin_mail_templates.route("")
@requires(Permission.SETTINGS_MANAGE)
def index() -> str:
    return render_template(
        "admin/mail_templates/list.html",
        specs=sorted(TEMPLATES.values(), key=lambda spec: str(spec.label)),
        edited=mail_templates.edited_locales(),
        locales=mail_templates.locales(),
    )


@admin_mail_templates.route("/<name>/<locale>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def edit(name: str, locale: str) -> Response | str:
    spec = _spec_or_404(name, locale)
    current = mail_templates.draft(name, locale)
    form = MailTemplateForm(data={"subject": current.subject, "body": current.body})
    preview: tuple[str, str] | None = None
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview = _preview(spec, locale, form)
        else:
            try:
                mail_templates.save(name, locale, form.subject.data, form.body.data)
            except MailTemplateError as exc:
                _refuse(form, exc)
            else:
                flash(_("The template %(name)s (%(locale)s) is saved.", name=name, locale=locale))
                return redirect(url_for(".edit", name=name, locale=locale))
    elif request.method == "GET":
        preview = _preview(spec, locale, form)
    return render_template(
        "admin/mail_templates/edit.html",
        spec=spec,
        locale=locale,
        locales=mail_templates.locales(),
        form=form,
        edited=current.edited,
        preview=preview,
        variables=_variables(spec),
    )


def _variables(spec: MailTemplateSpec) -> list[tuple[str, Any]]:
    names = ("client", "company", *spec.variables)
    return [(name, VARIABLE_HELP.get(name, "")) for name in names]


@admin_mail_templates.route("/<name>/<locale>/preview", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def live_preview(name: str, locale: str) -> Response:
    """The editor's live preview (JSON), rendered as staff type; nothing is saved."""
    spec = _spec_or_404(name, locale)
    form = MailTemplateForm()
    preview = _preview(spec, locale, form) if form.validate() else None
    if preview is None:
        errors = [error for field in (form.subject, form.body) for error in field.errors]
        return jsonify(error=" ".join(errors))
    return jsonify(subject=preview[0], body=preview[1])


@admin_mail_templates.route("/<name>/<locale>/reset", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def reset(name: str, locale: str) -> Response:
    _spec_or_404(name, locale)
    if mail_templates.reset(name, locale):
        flash(_("The built-in text of %(name)s (%(locale)s) is back.", name=name, locale=locale))
    else:
        flash(_("This template already uses the built-in text."), "info")
    return redirect(url_for(".edit", name=name, locale=locale))
