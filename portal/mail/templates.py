"""E-mail templates: the built-in texts, staff's edited versions, and sending one to a client.

Every e-mail the portal sends to a client about its account is a named template (``invoice_issued``,
``reminder_first_overdue``...). The built-in subject and body are Jinja sources with ``_()`` so
they follow the client's language; staff may replace them per language in the admin area (a
``mail_template`` row). Staff-edited sources run in Jinja's sandbox with the same variables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, render_template_string
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from portal.extensions import db
from portal.mail.outbox import Attachment, queue_email
from portal.models.client import Client
from portal.models.contact import MailKind
from portal.models.mail_template import MailTemplate
from portal.models.outbox import OutboundMessage


@dataclass(frozen=True)
class MailTemplateSpec:
    """A template's name, what staff see, its built-in subject (Jinja source) and body file."""

    name: str
    label: Any  # lazy translatable
    subject: str
    body: str  # path under templates/, e.g. "mail/invoice.txt"
    #: The variables the template gets besides ``client`` and ``company`` (shown to staff).
    variables: tuple[str, ...] = ()
    #: Which of the client's contacts get a copy.
    kind: MailKind = MailKind.GENERAL


TEMPLATES: dict[str, MailTemplateSpec] = {
    spec.name: spec
    for spec in (
        MailTemplateSpec(
            "invoice_issued",
            _l("Invoice issued (PDF attached)"),
            "{{ _('Invoice %(number)s', number=invoice.number) }}",
            "mail/invoice.txt",
            ("invoice",),
            MailKind.INVOICES,
        ),
    )
}


class MailTemplateError(ValueError):
    """A staff-edited template that does not render; the message says where."""


_sandbox = SandboxedEnvironment(autoescape=False)


def _filters() -> dict[str, Any]:
    return dict(current_app.jinja_env.filters)


def locale_of(client: Client) -> str:
    return client.language or current_app.config["BABEL_DEFAULT_LOCALE"]


def edited(name: str, locale: str) -> MailTemplate | None:
    return db.session.scalar(
        select(MailTemplate).where(MailTemplate.name == name, MailTemplate.locale == locale)
    )


def render_source(source: str, variables: Mapping[str, Any]) -> str:
    """Render a staff-edited source in the sandbox, with the portal's filters and ``_``."""
    from flask_babel import gettext

    env = _sandbox.overlay()
    env.filters.update(_filters())
    env.globals["_"] = gettext
    try:
        return env.from_string(source).render(**variables)
    except TemplateError as exc:
        raise MailTemplateError(str(exc)) from None


def render(name: str, locale: str, variables: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and body of template ``name`` in ``locale`` (staff's version if any)."""
    spec = TEMPLATES[name]
    context = {"company": current_app.config["PORTAL"]["company_name"], **variables}
    with force_locale(locale):
        row = edited(name, locale)
        if row is not None:
            return render_source(row.subject, context), render_source(row.body, context)
        subject = render_template_string(spec.subject, **context)
        return " ".join(subject.split()), render_template(spec.body, **context)


def send(
    name: str,
    client: Client,
    *,
    dedupe_key: str | None = None,
    attachments: Sequence[Attachment] = (),
    **variables: Any,
) -> OutboundMessage:
    """Queue template ``name`` to ``client`` (and contacts who opted into its kind), in the
    client's language, in the caller's transaction."""
    from portal.services.contacts import recipients

    spec = TEMPLATES[name]
    subject, text = render(name, locale_of(client), {"client": client, **variables})
    to, *cc = recipients(client, spec.kind)
    return queue_email(
        to=to,
        cc=cc,
        subject=subject,
        text=text,
        attachments=attachments,
        client_id=client.id,
        dedupe_key=dedupe_key,
    )
