"""E-mail templates: the built-in texts, staff's edited versions, and sending one to a client.

Every e-mail the portal sends to a client about its account is a named template (``invoice_issued``,
``reminder_first_overdue``...). The built-in subject and body are Jinja sources with ``_()`` so
they follow the client's language; staff may replace them per language in the admin area (a
``mail_template`` row). Staff-edited sources run in Jinja's sandbox with the same variables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from sqlalchemy import select

from portal.core.extensions import db
from portal.core.model_base import Base
from portal.messaging.models.mail_template import MailTemplate
from portal.messaging.models.outbox import OutboundMessage
from portal.messaging.outbox import (
    Attachment,
    LetterToCompose,
    fill_composed,
    queue_email,
    queue_to_compose,
)
from portal.messaging.sources import Addressee, MailKind, sources


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


def N_(msgid: str, **arguments: str) -> str:
    """The Jinja source of a built-in subject, ``{{ _(msgid, name=expression, ...) }}``.

    ``pybabel extract`` cannot see a ``_()`` inside a string literal; it does see ``N_(msgid)``
    (a default keyword), so a subject written this way reaches the translation catalogues.
    """
    args = "".join(f", {name}={expression}" for name, expression in arguments.items())
    return f"{{{{ _({msgid!r}{args}) }}}}"


#: Payment reminders (``portal.invoicing.dunning``): kind, what staff see, subject source.
_REMINDERS = (
    (
        "before_due",
        _l("Reminder before the due date"),
        N_(
            "Reminder: invoice %(number)s is due on %(due)s",
            number="invoice.number",
            due="invoice.due_date|short_date",
        ),
    ),
    (
        "on_due",
        _l("Reminder on the due date"),
        N_("Invoice %(number)s is due today", number="invoice.number"),
    ),
    (
        "first_overdue",
        _l("First overdue notice"),
        N_("Invoice %(number)s is overdue", number="invoice.number"),
    ),
    (
        "second_overdue",
        _l("Second overdue notice"),
        N_("Second reminder: invoice %(number)s is overdue", number="invoice.number"),
    ),
    (
        "third_overdue",
        _l("Third (final) overdue notice"),
        N_("Final reminder: invoice %(number)s is overdue", number="invoice.number"),
    ),
)

TEMPLATES: dict[str, MailTemplateSpec] = {
    spec.name: spec
    for spec in (
        *(
            MailTemplateSpec(
                f"reminder_{kind}",
                label,
                subject,
                f"mail/reminder_{kind}.txt",
                ("invoice", "days", "invoice_link"),
                MailKind.INVOICES,
            )
            for kind, label, subject in _REMINDERS
        ),
        MailTemplateSpec(
            "late_fee",
            _l("Late fee charged (PDF attached)"),
            N_("Late fee for invoice %(number)s", number="overdue_number"),
            "mail/late_fee.txt",
            ("invoice", "overdue_number", "days", "invoice_link"),
            MailKind.INVOICES,
        ),
        MailTemplateSpec(
            "suspension_warning",
            _l("Service will be suspended (warning)"),
            N_("Your service %(service)s will be suspended soon", service="service.product.name"),
            "mail/suspension_warning.txt",
            ("service", "invoice", "days", "days_left", "invoice_link"),
            MailKind.SERVICES,
        ),
        MailTemplateSpec(
            "service_suspended",
            _l("Service suspended"),
            N_("Your service %(service)s is suspended", service="service.product.name"),
            "mail/service_suspended.txt",
            ("service", "invoice", "days", "invoice_link"),
            MailKind.SERVICES,
        ),
        MailTemplateSpec(
            "service_unsuspended",
            _l("Service active again"),
            N_("Your service %(service)s is active again", service="service.product.name"),
            "mail/service_unsuspended.txt",
            ("service",),
            MailKind.SERVICES,
        ),
        MailTemplateSpec(
            "service_terminated",
            _l("Service terminated"),
            N_("Your service %(service)s is terminated", service="service.product.name"),
            "mail/service_terminated.txt",
            ("service", "overdue"),
            MailKind.SERVICES,
        ),
        MailTemplateSpec(
            "invoice_issued",
            _l("Invoice issued (PDF attached)"),
            N_("Invoice %(number)s", number="invoice.number"),
            "mail/invoice.txt",
            ("invoice",),
            MailKind.INVOICES,
        ),
        MailTemplateSpec(
            "order_accepted",
            _l("Order accepted"),
            N_("Your order #%(id)s is accepted", id="order.id"),
            "mail/order_accepted.txt",
            ("order",),
            MailKind.SERVICES,
        ),
        MailTemplateSpec(
            "payment_received",
            _l("Payment received"),
            N_("Payment of %(amount)s received", amount="payment.amount|money(payment.currency)"),
            "mail/payment_received.txt",
            ("payment", "invoices", "to_credit"),
            MailKind.INVOICES,
        ),
        MailTemplateSpec(
            "welcome",
            _l("Welcome (new account)"),
            N_("Welcome to %(company)s", company="company"),
            "mail/welcome.txt",
            ("login_link", "reset_link"),
        ),
        MailTemplateSpec(
            "password_reset",
            _l("Password reset link"),
            N_("Password reset"),
            "mail/password_reset.txt",
            ("link",),
        ),
        MailTemplateSpec(
            "registration_confirm",
            _l("Registration: link to finish it"),
            N_("Finish registering with %(company)s", company="company"),
            "mail/registration_confirm.txt",
            ("link",),
        ),
        MailTemplateSpec(
            "registration_attempt",
            _l("Registration with an address that has an account"),
            N_("Someone tried to register with your address"),
            "mail/registration_attempt.txt",
            ("login_link", "reset_link"),
        ),
    )
}


class MailTemplateError(ValueError):
    """A staff-edited template that does not render; the message says where, ``field`` which
    part ("subject" or "body")."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


#: What staff see next to each variable on the edit page (``client`` and ``company`` always exist).
VARIABLE_HELP: dict[str, Any] = {
    "client": _l(
        "the client: first_name, last_name, full_name, person_name (who a letter greets), "
        "company, email"
    ),
    "company": _l("your company's name"),
    "invoice": _l("the invoice: number, total, balance, currency, issue_date, due_date"),
    "order": _l("the order: id, items (each with description and details), generate_invoice"),
    "payment": _l("the payment: amount, currency, payment_date, reference"),
    "invoices": _l("the invoices the payment went to (each with number, balance, currency)"),
    "to_credit": _l("the part of the payment added to the credit balance (0 if none)"),
    "login_link": _l("the sign-in page of the client area"),
    "reset_link": _l("the page where the client sets a password"),
    "link": _l("the one-time link that sets a new password (works for an hour)"),
    "days": _l("days before the due date, or days overdue"),
    "days_left": _l("days left before the service is suspended"),
    "invoice_link": _l("the invoice's page in the client area"),
    "overdue_number": _l("the number of the overdue invoice the fee is charged for"),
    "service": _l("the service: product.name, status, next_due_date"),
    "overdue": _l("true when the service is terminated for non-payment"),
}

#: The longest string or list a staff template may build with ``*``; the largest ``**`` power.
_MAX_REPEAT = 100_000
_MAX_POWER = 100


class TemplateRecord:
    """A row as a staff-edited template sees it: the fields its area registered
    (``portal.messaging.sources.register_template_fields``) and nothing else — no column that
    is not named (a manager's ``password_hash``, ``totp_secret``), no method, no session.
    Fields are read when the template asks for them; related rows come wrapped the same way."""

    __slots__ = ("_fields", "_registry", "_row")

    def __init__(self, row: Any, fields: frozenset[str], registry: Mapping[type, frozenset[str]]):
        self._row, self._fields, self._registry = row, fields, registry

    def __getattr__(self, name: str) -> Any:
        if name not in self._fields:
            raise AttributeError(name)
        return template_value(getattr(self._row, name), self._registry)

    def __repr__(self) -> str:
        return f"<{type(self._row).__name__}>"


def template_value(value: Any, registry: Mapping[type, frozenset[str]]) -> Any:
    """``value`` as a staff-edited template may see it: a model row becomes a
    :class:`TemplateRecord` of its registered fields (or nothing, when its model registered
    none), a list of rows a list of those; plain values (text, numbers, dates) stay."""
    if isinstance(value, Base):
        fields = registry.get(type(value))
        return TemplateRecord(value, fields, registry) if fields else None
    if isinstance(value, list | tuple):
        return [template_value(item, registry) for item in value]
    return value


def _template_context(variables: Mapping[str, Any]) -> dict[str, Any]:
    registry = sources().fields
    return {name: template_value(value, registry) for name, value in variables.items()}


class MailSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox for staff-edited templates. It is handed :class:`TemplateRecord` views,
    never models, so a template reads registered fields only (never ``client.manager
    .password_hash``, never ``client.set_password``); ``*`` and ``**`` cannot build values
    that exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if (
            isinstance(obj, TemplateRecord)
            and not attribute.startswith("_")
            and attribute not in obj._fields
        ):
            hint = _(
                "%(record)s has no field %(name)s; its fields: %(fields)s.",
                record=type(obj._row).__name__,
                name=repr(attribute),
                fields=", ".join(sorted(obj._fields)),
            )
            return self.undefined(obj=obj, name=attribute, hint=hint)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > _MAX_POWER:
            raise SecurityError(f"a power above {_MAX_POWER} is not allowed")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sequence = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if sequence and len(seq) * times > _MAX_REPEAT:
                    raise SecurityError("the result would be too long")
        return super().call_binop(context, operator, left, right)


_sandbox = MailSandbox(autoescape=False)


def _filters() -> dict[str, Any]:
    return dict(current_app.jinja_env.filters)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def locale_of(client: Addressee) -> str:
    return client.language or current_app.config["BABEL_DEFAULT_LOCALE"]


def edited(name: str, locale: str) -> MailTemplate | None:
    """Staff's version of ``name`` in ``locale``, looked up once per transaction: a job queuing
    many mails in one transaction (reminders, notices) does not ask for it for each."""
    session = db.session()
    key = (name, locale)
    cache = session.info.get("mail_templates")
    current = session.get_transaction()
    if current is not None and cache is not None and cache[0] is current and key in cache[1]:
        return cache[1][key]
    row = session.scalar(
        select(MailTemplate).where(MailTemplate.name == name, MailTemplate.locale == locale)
    )
    current = session.get_transaction()  # the query began one if none was open
    if cache is None or cache[0] is not current:
        cache = session.info["mail_templates"] = (current, {})
    cache[1][key] = row
    return row


def _message(exc: TemplateError) -> str:
    if isinstance(exc, TemplateSyntaxError) and exc.lineno:
        return f"{exc.message} (line {exc.lineno})"
    return str(exc.message if exc.message else exc)


def render_source(
    source: str, variables: Mapping[str, Any], *, strict: bool = False, field: str = "body"
) -> str:
    """Render a staff-edited source in the sandbox, with the portal's filters and ``_``.

    ``strict`` (for checking a draft) makes an unknown name or an unsafe attribute an error
    instead of an empty string, so a typo is caught before the text replaces the built-in one.
    """
    env = _sandbox.overlay(undefined=StrictUndefined) if strict else _sandbox.overlay()
    env.filters.update(_filters())
    env.globals["_"] = _
    try:
        return env.from_string(source).render(**_template_context(variables))
    except TemplateError as exc:
        raise MailTemplateError(_message(exc), field) from None
    except Exception as exc:  # a filter or an operator refusing the value: the same for staff
        raise MailTemplateError(f"{type(exc).__name__}: {exc}", field) from None


def _context(variables: Mapping[str, Any]) -> dict[str, Any]:
    return {"company": current_app.config["PORTAL"]["company_name"], **variables}


def builtin_source(name: str) -> tuple[str, str]:
    """The built-in subject and body sources of template ``name`` (what "Reset" restores)."""
    spec = TEMPLATES[name]
    env = current_app.jinja_env
    assert env.loader is not None
    return spec.subject, env.loader.get_source(env, spec.body)[0]


Renderer = Callable[[Mapping[str, Any]], tuple[str, str]]


def _builtin_renderer(name: str) -> Renderer:
    """The built-in subject and body of ``name``, compiled once, rendered per letter with the
    context ``render_template`` gives (filters, context processors) and ``_`` bound to the
    current locale's catalogue once rather than looked up for every string of every letter.
    The caller holds ``force_locale``."""
    from flask_babel import get_translations

    spec = TEMPLATES[name]
    env = current_app.jinja_env
    subject, body = env.from_string(spec.subject), env.get_template(spec.body)
    catalogue = get_translations()

    def gettext(string: str, **variables: Any) -> str:
        text = catalogue.ugettext(string)
        return text % variables if variables else text

    shared: dict[str, Any] = {}
    current_app.update_template_context(shared)
    shared.update(gettext=gettext, _=gettext)

    def rendered(variables: Mapping[str, Any]) -> tuple[str, str]:
        context = {**shared, **_context(variables)}
        return _one_line(subject.render(context)), body.render(context)

    return rendered


def _renderer(name: str, locale: str) -> Renderer:
    """How letters of ``name`` in ``locale`` are rendered: staff's version if any, compiled
    once in the sandbox. One that fails on real data (it was checked against sample data only)
    is logged and the built-in text goes out instead: a typo never stops a billing run's mail.
    The caller holds ``force_locale(locale)``."""
    builtin = _builtin_renderer(name)
    row = edited(name, locale)
    if row is None:
        return builtin
    env = _sandbox.overlay()
    env.filters.update(_filters())
    env.globals["_"] = _
    try:
        subject, body = env.from_string(row.subject), env.from_string(row.body)
    except TemplateError as exc:
        _fell_back(name, locale, MailTemplateError(_message(exc)))
        return builtin

    def rendered(variables: Mapping[str, Any]) -> tuple[str, str]:
        context = _template_context(_context(variables))
        try:
            return _one_line(subject.render(context)), body.render(context)
        except Exception as exc:
            _fell_back(name, locale, exc)
            return builtin(variables)

    return rendered


def _fell_back(name: str, locale: str, exc: Exception) -> None:
    current_app.logger.warning(
        "e-mail template %s (%s) failed, sending the built-in text: %s", name, locale, exc
    )


def render_draft(
    locale: str, subject: str, body: str, variables: Mapping[str, Any]
) -> tuple[str, str]:
    """A staff draft rendered strictly (see ``render_source``); raises ``MailTemplateError``."""
    context = _context(variables)
    with force_locale(locale):
        return (
            _one_line(render_source(subject, context, strict=True, field="subject")),
            render_source(body, context, strict=True),
        )


def render(name: str, locale: str, variables: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and body of template ``name`` in ``locale`` (staff's version if any)."""
    with force_locale(locale):
        return _renderer(name, locale)(variables)


def public_base_url() -> str:
    """The portal's public address: the ``base_url`` setting, else the address of the request
    being served (never a port written in the code). Outside a request with no setting there is
    nothing to go by: the links say ``http://localhost`` and a warning is logged, as the mail
    settings page warns staff (docs/admin-guide.md)."""
    configured = (current_app.config["PORTAL"].get("base_url") or "").strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    current_app.logger.warning("base_url is not set: links in mail sent by jobs say localhost")
    return "http://localhost"


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link built on :func:`public_base_url` (mail is also sent from jobs, outside
    requests, where only the setting knows the portal's address)."""
    base = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def send(
    name: str,
    client: Addressee,
    *,
    dedupe_key: str | None = None,
    attachments: Sequence[Attachment] = (),
    **variables: Any,
) -> OutboundMessage:
    """Queue template ``name`` to ``client`` (and contacts who opted into its kind), in the
    client's language, in the caller's transaction."""
    spec = TEMPLATES[name]
    locale = locale_of(client)
    subject, text = render(name, locale, {"client": client, **variables})
    to, *cc = _recipients(client, spec.kind)
    return queue_email(
        to=to,
        cc=cc,
        subject=subject,
        text=text,
        attachments=attachments,
        client_id=client.id,
        dedupe_key=dedupe_key,
        language=str(locale),
    )


def _recipients(client: Addressee, kind: MailKind) -> list[str]:
    found = sources().recipients
    if found is None:
        raise RuntimeError("no area registered the recipients of client mail")
    return found(client, kind)


def send_composed_at_delivery(name: str, letters: Sequence[LetterToCompose]) -> None:
    """Queue letters of template ``name`` that are composed when the outbox delivers them
    (:func:`compose_letter`): the caller needs no client or invoice loaded and nothing is
    rendered now — the billing run's invoice mails. A dedupe key used before adds nothing.
    A letter may name the variables whose rows an area registered a loader for
    (``portal.messaging.sources.register_variable``)."""
    if name not in TEMPLATES:  # here, not at delivery
        raise KeyError(f"no mail template {name!r}")
    composable = set(sources().rows)
    for letter in letters:
        unknown = set(letter.variables) - composable
        if unknown:
            raise ValueError(f"variables not composable at delivery: {sorted(unknown)}")
    queue_to_compose(name, letters)


def compose_letter(row: OutboundMessage) -> None:
    """Give a letter queued by :func:`send_composed_at_delivery` its recipients, subject, text
    and attachments, from the template and the data as they are now, in the client's language.

    The client and the rows come from the loaders the owning areas registered
    (``portal.messaging.sources``). Raises ``LookupError`` when the client or a variable's row
    no longer exists.
    """
    assert row.template is not None and row.compose_args is not None
    found = sources()
    if found.addressee is None:
        raise RuntimeError("no area registered how to load a letter's client")
    client = found.addressee(row.client_id) if row.client_id is not None else None
    if client is None:
        raise LookupError(f"the client of this {row.template} letter no longer exists")
    variables: dict[str, Any] = {"client": client}
    for variable, row_id in row.compose_args["variables"].items():
        variables[variable] = found.rows[variable](row_id)
        if variables[variable] is None:
            raise LookupError(f"{variable} #{row_id} of this letter no longer exists")
    locale = locale_of(client)
    subject, text = render(row.template, locale, variables)
    to, *cc = _recipients(client, TEMPLATES[row.template].kind)
    fill_composed(row, to, cc, subject, text, str(locale))
