"""Staff's versions of the e-mail templates: save, reset to the built-in text, preview.

A draft is checked by rendering it strictly, in the sandbox, against sample objects built in
memory (never added to the session, so a preview writes nothing). A draft that does not render
is refused with Jinja's message and the stored text stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal.accounts import audit
from portal.core.app_state import clock
from portal.core.clock import today
from portal.core.extensions import db
from portal.messaging import templates
from portal.messaging.models.mail_template import MailTemplate
from portal.messaging.sources import Sample, sources
from portal.messaging.templates import TEMPLATES, MailTemplateSpec

D = Decimal


@dataclass(frozen=True)
class Draft:
    """What staff see in the editor: the stored (or built-in) sources of one language."""

    subject: str
    body: str
    edited: bool


def locales() -> list[str]:
    return list(current_app.config["PORTAL"]["locales"])


def spec_for(name: str, locale: str) -> MailTemplateSpec | None:
    """The template, if ``name`` and ``locale`` are known (anything else is a 404)."""
    return TEMPLATES.get(name) if locale in locales() else None


def edited_locales() -> dict[str, list[str]]:
    """For each template name, the languages staff have replaced (one query)."""
    found: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(MailTemplate.name, MailTemplate.locale).order_by(MailTemplate.locale)
    )
    for name, locale in rows:
        found.setdefault(name, []).append(locale)
    return found


def draft(name: str, locale: str) -> Draft:
    row = templates.edited(name, locale)
    if row is not None:
        return Draft(row.subject, row.body, True)
    subject, body = templates.builtin_source(name)
    return Draft(subject, body, False)


# --- sample data ------------------------------------------------------------------------------

_PEOPLE = {
    "ru": ("Иван", "Петров", "ООО «Ромашка»", "Виртуальный сервер «Старт»", "п/п 17"),
    "en": ("John", "Smith", "Acme Ltd", "Virtual server Start", "PO 17"),
}

#: Sample values that are plain facts. The objects a template shows (the client, an invoice, an
#: order...) are built by the areas that own them (``portal.messaging.sources.register_variable``);
#: a template with a variable nobody samples gets the text "[name]" in the preview.
SAMPLES: dict[str, Callable[[Sample], Any]] = {
    "to_credit": lambda s: D("250.00"),
    "login_link": lambda s: templates.external_url("client_auth.login"),
    "reset_link": lambda s: templates.external_url("client_auth.forgot_password"),
    "days": lambda s: 5,
    "days_left": lambda s: 3,
    "overdue": lambda s: True,
    "overdue_number": lambda s: f"{s.today.year}-000120",
    "invoice_link": lambda s: templates.external_url("client_billing.invoice_view", invoice_id=501),
    "link": lambda s: templates.external_url(
        "client_auth.reset_password",
        token="sample-token",  # noqa: S106 (a sample)
    ),
}


def sample_variables(name: str, locale: str) -> dict[str, Any]:
    """The variables of template ``name`` filled with sample objects (in memory, never saved)."""
    first, last, company, product, reference = _PEOPLE.get(locale, _PEOPLE["en"])
    sample = Sample(
        locale=locale,
        today=today(),
        currency=current_app.config["PORTAL"]["default_currency"],
        first_name=first,
        last_name=last,
        company=company,
        product=product,
        reference=reference,
    )
    builders = {**sources().samples, **SAMPLES}
    sample = replace(sample, client=builders["client"](sample))
    variables: dict[str, Any] = {"client": sample.client}
    for variable in TEMPLATES[name].variables:
        build = builders.get(variable)
        variables[variable] = build(sample) if build else f"[{variable}]"
    return variables


# --- staff actions ----------------------------------------------------------------------------


def preview(name: str, locale: str, subject: str, body: str) -> tuple[str, str]:
    """The draft rendered with sample data; raises ``MailTemplateError`` (with ``field``)."""
    return templates.render_draft(locale, subject, body, sample_variables(name, locale))


def _snapshot(row: MailTemplate | None) -> dict[str, str] | None:
    return None if row is None else {"subject": row.subject, "body": row.body}


def save(name: str, locale: str, subject: str, body: str) -> MailTemplate:
    """Store staff's version of ``name`` in ``locale`` once it renders. Audited; commits."""
    preview(name, locale, subject, body)  # raises before anything changes
    row = templates.edited(name, locale)
    before = _snapshot(row)
    if row is None:
        row = MailTemplate(name=name, locale=locale, created_at=clock().now())
        db.session.add(row)
    row.subject, row.body = subject.strip(), body
    db.session.flush()
    audit.record(
        "mail_template.save",
        "mail_template",
        row.id,
        before=before,
        after=_snapshot(row),
        note=f"{name} ({locale})",
    )
    db.session.commit()
    return row


def reset(name: str, locale: str) -> bool:
    """Go back to the built-in text of ``name`` in ``locale``; False if it was not edited.
    Audited; commits."""
    row = templates.edited(name, locale)
    if row is None:
        return False
    audit.record(
        "mail_template.reset",
        "mail_template",
        row.id,
        before=_snapshot(row),
        note=f"{name} ({locale})",
    )
    db.session.delete(row)
    db.session.commit()
    return True
