"""The service functions a plugin may call: thin wrappers over the areas' own services.

Each wrapper fixes a keyword-friendly signature that stays put while the core changes behind
it. None of them holds logic of its own beyond choosing which service to call; the work (the
audit entry, the hooks fired, the module command queued, the mail) is done by the area. Each
docstring says whether the call commits (one unit of work, as a service call from a view
would be) or joins the caller's transaction.

Every function needs an app context: the one a hook, a job, a provisioner or a request runs in.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal import billing
from portal.accounts import audit_sentences, clients
from portal.accounts.contacts import recipients
from portal.accounts.models import Client, Staff
from portal.catalog import catalog, client_rules
from portal.catalog import tax as taxes
from portal.catalog.models import ClientDiscount, Product
from portal.core import app_state, clock, commands, transactions
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.models import Invoice, Payment
from portal.messaging.outbox import queue_email
from portal.messaging.sources import MailKind
from portal.messaging.templates import external_url as _external_url
from portal.orders import orders, provisioning, provisioning_backends, service_changes
from portal.orders.models import Service, ServiceStatus
from portal.orders.provisioners import ProvisioningAction
from portal.platform import demo
from portal.platform import plugin_settings as settings_service
from portal.platform.demo import DemoProduct
from portal.support import tickets
from portal.support.models import MessageSource, Ticket, TicketPriority
from portal.web import permissions as permissions_check
from portal.web.paging import Page, keyset_page, offset_page, sequence_page

F = TypeVar("F", bound=Callable[..., Any])

PaymentError = payments.PaymentError
TicketError = tickets.TicketError
InvoiceError = invoices.InvoiceError
ChangeError = service_changes.ChangeError
RequisitesError = clients.ClientError

__all__ = [
    "ChangeError",
    "DiscountError",
    "InvoiceError",
    "PaymentError",
    "RequisitesError",
    "TicketError",
    "add_charge",
    "add_credit",
    "add_demo_client",
    "add_demo_products",
    "add_demo_service",
    "business_zone",
    "cancel_invoice",
    "client_locale",
    "credit_balance",
    "email_client",
    "email_staff",
    "end_read_transaction",
    "external_url",
    "keep_after_period_end",
    "now",
    "open_ticket",
    "paginate",
    "paginate_list",
    "pdf_fonts",
    "plugin_settings",
    "preview_change",
    "product_values",
    "provisioning_backend",
    "queue_provisioning",
    "record_payment",
    "register_audit_field",
    "register_audit_sentence",
    "render_pdf",
    "requires",
    "run_command",
    "run_program",
    "savepoint",
    "service_change_url",
    "session",
    "set_personal_coefficient",
    "staff_locale",
    "suspend_service",
    "terminate_at_period_end",
    "today",
    "unsuspend_service",
    "use_credit",
    "use_credits",
    "validate_requisites",
]

# --- database and time ----------------------------------------------------------------------


def session() -> Session:
    """The database session of the current app context: query with it, add a plugin's own rows,
    ``commit()`` at the end of a job's unit of work (hooks and provisioners never commit: the
    portal commits or rolls back around them)."""
    return db.session()


def savepoint() -> AbstractContextManager[None]:
    """``with savepoint():`` — a part that may fail on its own (one row of a batch, an insert
    that may collide) rolls back alone; the same on SQLite and PostgreSQL."""
    return transactions.savepoint()


def today() -> date:
    """The business date: the app's clock in the provider's time zone (tests move the clock)."""
    return clock.today()


def business_zone() -> ZoneInfo:
    """The provider's time zone, in which business dates are read: a service's periods and due
    dates are dates in it, so a moment belongs to the period holding its date there."""
    return ZoneInfo(current_app.config["PORTAL"]["default_timezone"])


def now() -> datetime:
    """The current moment from the app's clock, timezone-aware UTC (for timestamps)."""
    return app_state.clock().now()


def client_locale(client: Client) -> AbstractContextManager[Any]:
    """``with client_locale(client):`` — texts for the client (a ticket, an invoice line, a
    letter) are translated into the client's language, or the portal's default."""
    return orders.client_locale(client)


def end_read_transaction() -> None:
    """Before a long wait on another system (an HTTP call to a panel, a licence server): end
    the session's transaction if it only read, so no snapshot or lock is held meanwhile —
    what ``run_command`` does before a program. A transaction that wrote, or objects changed
    and not yet written, raise RuntimeError (write after the wait). Commits nothing."""
    transactions.end_read_transaction()


# --- programs on this machine ----------------------------------------------------------------


def run_command(
    args: Sequence[str], *, timeout: float, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a program (``args``, never through a shell) and return its exit code, stdout and
    stderr as text; the caller decides what a non-zero exit means. The program runs in a
    process group of its own: after ``timeout`` seconds it and every process it started are
    ended (SIGTERM, then SIGKILL) and ``subprocess.TimeoutExpired`` is raised; a missing
    program raises ``FileNotFoundError``. Nothing of the database is held meanwhile: a
    transaction that only read is ended first; one that wrote, or objects changed and not yet
    written, raise RuntimeError (write after the command). Does not commit anything."""
    return commands.run_command(args, timeout=timeout, input_text=input_text)


# --- settings ---------------------------------------------------------------------------------


def plugin_settings(plugin: str) -> dict[str, Any]:
    """The settings of ``plugin`` (its ``register_settings`` name): the registered defaults,
    overridden by what staff saved; secrets decrypted (None when no longer readable)."""
    return settings_service.get(plugin)


def run_program(args: Sequence[str], *, timeout: int) -> str:
    """Run a program as ``run_command`` does and return its stdout; a missing program, the
    timeout or a non-zero exit raise :class:`ProvisioningError` with a message for staff (the
    program's stderr). For provisioning modules that build their own arguments."""
    return provisioning_backends.run_program(args, timeout=timeout)


def provisioning_backend(
    config: Mapping[str, Any],
    *,
    settings_name: str,
    requests: type[Any],
    text: Callable[[Service, Sequence[Any]], tuple[str, str]] | None = None,
    describe: Callable[[Any], str] | None = None,
) -> provisioning_backends.ProvisioningBackend:
    """The backend a module's settings choose (``config["backend"]``: ``command``, ``http``,
    else ``ticket``), built from ``config`` (``command``, ``url``, ``token``, ``timeout``,
    ``department``). ``settings_name`` names the module's settings in messages and tickets,
    ``requests`` is the module's model remembering the ticket of a task; a ticket is written by
    ``text(service, commands)`` (subject, body), or else lists the commands as
    ``describe(command)`` words each (both called in the client's language). Its
    ``apply(task_id, service, commands)`` sends :class:`BackendCommand` s; see docs/plugins.md,
    "Provisioning backends"."""
    return provisioning_backends.backend_for(
        config, settings_name=settings_name, requests=requests, text=text, describe=describe
    )


def product_values(product: Product, plugin: str) -> dict[str, Any]:
    """The values of ``plugin``'s product fields (``register_product_fields``) on ``product``:
    the registered defaults, overridden by what staff saved on the product page."""
    return settings_service.product_values(product, plugin)


# --- clients ----------------------------------------------------------------------------------


def validate_requisites(*, inn: str, kpp: str = "") -> tuple[str, str]:
    """Check an organisation's INN and KPP by the portal's own rules (those of the client
    profile: python-stdnum's INN check digits, the KPP format) and return them cleaned
    (spaces removed, KPP upper-cased). A 10-digit INN is a legal entity and needs a KPP; a
    12-digit one is a sole proprietor and has none (returned as ""). Raises
    :class:`RequisitesError` whose ``field`` is ``"inn"`` or ``"kpp"`` and whose message is
    translated into the current language. Reads nothing, writes nothing."""
    return clients.check_inn_kpp(inn, kpp)


# --- support ----------------------------------------------------------------------------------


def open_ticket(
    *,
    client: Client,
    subject: str,
    body: str,
    department_id: int,
    service_id: int | None = None,
    priority: str | None = None,
    staff_only: bool = True,
) -> Ticket:
    """Open a support ticket about ``client`` in the department, marked as written by the
    system (``ticket_opened`` is fired). By default it is **staff-only** — a task for the
    admins (a quota to set, a licence to register): the client never sees it, gets no mail
    about it and cannot answer or close it, so only a staff member completes it. With
    ``staff_only=False`` it is the client's ticket like any other (listed in the client area,
    acknowledged by mail). ``priority`` is "low", "medium", "high" or "urgent" (default: the
    department's SLA). Raises :class:`TicketError` with a message fit for staff (an unknown
    department, a service of another client). Commits: the ticket stays even if the caller
    fails afterwards."""
    return tickets.open_ticket(
        subject=subject,
        body=body,
        department_id=department_id,
        client=client,
        service_id=service_id,
        priority=TicketPriority(priority) if priority else None,
        source=MessageSource.SYSTEM,
        staff_only=staff_only,
    )


# --- money ------------------------------------------------------------------------------------


def add_charge(
    client: Client,
    *,
    description: str,
    unit_price: Decimal,
    quantity: Decimal | int = 1,
    service: Service | None = None,
    period: billing.Period | None = None,
    details: Sequence[str] = (),
    issue: bool = False,
    due_days: int | None = None,
    commit: bool = True,
) -> Invoice:
    """Charge ``client`` once: a new **draft** invoice with one line of ``quantity`` ×
    ``unit_price`` (Decimal, in the service's currency or else the client's, on the product's
    tax basis). With ``service`` the line belongs to it and is taxed like its product; without,
    by the tax settings for the client. Staff review and issue the draft like any other; it
    sends nothing. With ``issue=True`` it is issued at once instead (numbered, payable,
    ``invoice_issued`` fired, so the client gets it like any other invoice), dated today and
    due after ``due_days`` (default: the client's payment terms, else the ``invoice_due_days``
    setting). Raises :class:`portal.billing.BillingError` for a negative or float price.
    Commits, unless ``commit=False``: it then joins the caller's transaction (a plugin that
    records the charge in its own row commits both together, so a job run twice bills
    once). Returns the invoice."""
    tax_date = today()
    if service is None:
        currency = client.currency
        line_tax = taxes.line_tax(client, tax_date=tax_date)
    else:
        if service.client_id != client.id:
            raise ValueError(f"service #{service.id} belongs to another client")
        currency = service.currency
        line_tax = catalog.line_tax(client, service.product, tax_date)
    line = billing.charge_line(
        description,
        unit_price,
        currency,
        quantity=quantity,
        period=period,
        line_tax=line_tax,
        component=billing.Component.ONE_TIME,
        details=details,
    )
    invoice = invoices.create_draft(
        client, [(line, service.id if service is not None else None)], currency=currency
    )
    if issue:
        invoices.issue_invoice(invoice, today=tax_date, due_days=due_days, commit=False)
    if commit:
        db.session.commit()
    return invoice


def cancel_invoice(invoice: Invoice) -> None:
    """Cancel a draft or an unpaid invoice as staff would (audited; its number stays used for
    the books), e.g. a charge the client refused. Raises :class:`InvoiceError` with a message
    fit to show when it is paid, partly paid or corrected by a credit note. Commits, together
    with what the caller changed before."""
    invoices.cancel_invoice(invoice)


def add_credit(
    client: Client, amount: Decimal, *, description: str, currency: str | None = None
) -> Decimal:
    """Add ``amount`` (Decimal, more than zero, whole minor units) to ``client``'s credit
    balance; ``description`` says why (shown to staff and in the audit log). The next invoices
    take it from there. Raises :class:`PaymentError`. Commits; returns the new balance."""
    return payments.grant_credit(client, amount, description=description, currency=currency)


def credit_balance(client: Client, currency: str | None = None) -> Decimal:
    """``client``'s credit balance in ``currency`` (default: the client's currency)."""
    return payments.credit_balance(client.id, currency or client.currency)


def use_credit(
    client: Client, amount: Decimal, *, description: str, currency: str | None = None
) -> Decimal:
    """Debit ``amount`` (Decimal, more than zero, whole minor units of the client's currency)
    of prepaid usage from ``client``'s credit balance, which may go below zero (what was used
    is owed); the ledger shows it as "Usage charge" with ``description``. Raises
    :class:`PaymentError`. Joins the caller's transaction (debit usage with the rows that
    record it); returns the new balance. ``currency`` must be the client's own."""
    if currency not in (None, client.currency):
        raise PaymentError(_("Usage is charged in the client's currency."))
    return payments.use_credits({client.id: amount}, description=description)[client.id]


def pdf_fonts() -> dict[str, Path]:
    """The core's document fonts (DejaVu Sans, Cyrillic), ``{"regular": path, "bold": path}``:
    a plugin's HTML for :func:`render_pdf` declares them with ``@font-face`` by
    ``path.as_uri()`` (as portal/documents/templates/_document.html does)."""
    from portal.documents import render

    folder = render.font_dir()
    return {"regular": folder / render.FONT_FILES[0], "bold": folder / render.FONT_FILES[1]}


def render_pdf(html: str) -> bytes:
    """A plugin's own HTML as a PDF with xhtml2pdf, the way the core prints its invoices: only
    the fonts' folder may be read (nothing remote), and a font that did not embed raises
    ``portal.documents.errors.DocumentError`` instead of printing squares for Cyrillic."""
    from portal.documents import render

    return render._pdf(html, render.font_dir())


#: A personal coefficient the core refuses (above 1, more than 4 decimals, overlapping dates);
#: ``str(error)`` is the message for staff, in their language.
DiscountError = client_rules.RuleError


def set_personal_coefficient(
    client: Client, product: Product, coefficient: Decimal | None, *, note: str
) -> None:
    """Make ``client`` pay ``product``'s recurring and one-time prices times ``coefficient``
    (0 < coefficient <= 1, 4 decimals): a core personal discount of the coefficient kind, so
    the first invoice, the renewals and the change previews price it like staff's own
    discounts (docs/billing.md). ``note`` marks the plugin's row: setting again changes that
    row, ``None`` or 1 ends it from today. Setup fees stay at list price (the core applies no
    personal discount to them; a plugin's own setup coefficient goes through the
    ``setup_coefficient`` decision hook). Raises :data:`DiscountError`. Commits; audited."""
    row = db.session.scalar(
        select(ClientDiscount).where(
            ClientDiscount.client_id == client.id,
            ClientDiscount.product_id == product.id,
            ClientDiscount.note == note,
            ClientDiscount.valid_to.is_(None),
        )
    )
    if coefficient is None or coefficient == billing.ONE:
        if row is not None:
            client_rules.end_rule(row, clock.today())
        return
    values = {
        "kind": "coefficient",
        "value": coefficient,
        "product_id": product.id,
        "valid_from": row.valid_from if row is not None else clock.today(),
        "valid_to": None,
        "note": note,
    }
    client_rules.save_discount(client, values, row)


def use_credits(debits: Mapping[int, Decimal], *, description: str) -> dict[int, Decimal]:
    """:func:`use_credit` for many clients at once (``{client_id: amount}``, each in the
    client's currency): a few queries whatever the number of clients, for a batch of rated
    calls. Joins; returns the new balances by client id."""
    return payments.use_credits(debits, description=description)


def record_payment(
    client: Client,
    *,
    amount: Decimal,
    method: str,
    reference: str,
    invoices: Sequence[Invoice] = (),
    payment_date: date | None = None,
    currency: str | None = None,
    description: str = "",
) -> Payment:
    """Record money ``client`` paid through ``method`` (a gateway's ``name``) on
    ``payment_date`` (default: today) and settle ``invoices`` in that order; the rest goes to
    the credit balance. ``reference`` (the gateway's transaction id, outer spaces ignored:
    portal/invoicing/payment_references.py) makes it idempotent: the same reference again
    returns the payment recorded before, with ``recorded_now`` false, and changes nothing.
    Raises :class:`PaymentError`. Commits."""
    return payments.record_payment(
        client,
        amount=amount,
        method=method,
        reference=reference,
        payment_date=payment_date or today(),
        invoices=invoices,
        currency=currency,
        description=description,
    )


# --- services ---------------------------------------------------------------------------------


def suspend_service(service: Service, *, reason: str) -> bool:
    """Suspend an active service as staff would by hand, with ``reason`` (e.g.
    ``"telephony:fraud"``): audited, ``service_suspended`` fired, the product's module asked to
    suspend it through the provisioning queue. A payment does not lift it (only suspensions for
    non-payment are). False, changing nothing, when the service is not active. Commits."""
    if not reason.strip():
        raise ValueError("a suspension needs a reason")
    if service.status is not ServiceStatus.ACTIVE:
        return False
    service_changes.update_service(
        service, {"status": ServiceStatus.SUSPENDED.value, "suspension_reason": reason}
    )
    return True


def unsuspend_service(service: Service) -> bool:
    """Make a suspended service active again (whoever suspended it): audited,
    ``service_unsuspended`` fired, the module asked to unsuspend it. False, changing nothing,
    when the service is not suspended. Commits."""
    if service.status is not ServiceStatus.SUSPENDED:
        return False
    service_changes.update_service(service, {"status": ServiceStatus.ACTIVE.value})
    return True


def preview_change(
    service: Service,
    *,
    product: Product | None = None,
    cycle: str | None = None,
    options: Mapping[int, int] | None = None,
    today: date | None = None,
) -> service_changes.ChangePreview:
    """Quote an upgrade or downgrade of ``service`` as the client's change page does: to
    ``product`` (one of its upgrade paths; default: the same), ``cycle`` and final ``options``
    ({option id: quantity}), on ``today`` (default: the business date). The result's ``quote``
    (:class:`portal.billing.ChangeQuote`) holds the credit of the unused part of the old price,
    the charge of the new one to the same end date, the days and ``difference``; ``taxed`` the
    difference with tax. Raises :class:`ChangeError` with a message to show. Writes nothing."""
    request = service_changes.ChangeRequest(
        product_id=product.id if product is not None else None,
        cycle=cycle,
        options=dict(options) if options is not None else None,
    )
    return service_changes.preview(service, request, today=today or clock.today())


def service_change_url(service: Service) -> str:
    """The client area's page where the client changes ``service`` (final quantities, another
    package) with the core preview and confirms; link to it from a plugin's page."""
    return url_for("shop.change", service_id=service.id)


def queue_provisioning(
    service: Service,
    action: ProvisioningAction,
    *,
    payload: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> bool:
    """Ask the service's module to run ``action`` through the provisioning queue (retries,
    visible to staff) without changing the service in the portal — e.g. block writing while
    the service stays active. ``payload`` reaches the provisioner as ``context.payload``. With
    a ``dedupe_key`` used before, nothing is queued. True when a command was queued. Joins the
    caller's transaction (commit it in a job)."""
    task = provisioning.queue(service, action, payload=dict(payload or {}), dedupe_key=dedupe_key)
    return task is not None


def terminate_at_period_end(service: Service, *, reason: str) -> bool:
    """Ask for ``service`` to end with its paid period, as staff would tick "terminate at the end
    of the paid period" on the service page with ``reason``: the billing run stops renewing it
    and the overdue automation terminates it on its next due date (module command, hook
    ``service_terminated``). Audited. False, changing nothing, when the service is not active or
    suspended, or is already to end (its reason kept). Commits, with what the caller changed
    before."""
    if not reason.strip():
        raise ValueError("a termination needs a reason")
    if service.status not in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
        return False
    if service.terminate_at_period_end:
        return False
    service_changes.update_service(
        service, {"terminate_at_period_end": True, "termination_reason": reason}
    )
    return True


def keep_after_period_end(service: Service) -> bool:
    """Withdraw a request to end ``service`` with its paid period (the client changed their mind
    before the date): it renews again. Audited. False, changing nothing, when none was made.
    Commits, with what the caller changed before."""
    if not service.terminate_at_period_end:
        return False
    service_changes.update_service(service, {"terminate_at_period_end": False})
    return True


# --- views ------------------------------------------------------------------------------------


def requires(*permissions: str) -> Callable[[F], F]:
    """Decorate a view of a plugin's admin blueprint (``bp.portal_area = "admin"``): 403 unless
    the signed-in staff member holds every one of ``permissions`` (their names, e.g.
    ``"clients.view"``, ``"billing.manage"``); ``@requires()`` for any signed-in staff member.
    The admin shell's own check, so a plugin's views are held to the same roles."""
    return permissions_check.requires(*permissions)


def paginate(
    statement: Select[Any],
    *,
    per_page: int = 50,
    sort: Any = None,
    id_column: Any = None,
    descending: bool = True,
) -> Page:
    """One page of a list view's ``select(...)``, read from the query string, with a count
    capped at 10 000 ("over 10 000" past it), for the ``pagination`` macro
    (``{% from "macros/shell.html" import pagination with context %}``).

    With ``id_column`` (and optionally ``sort``, a NOT NULL column of the tables the statement
    reads, or a tuple of them) the page is a keyset page ordered by ``sort`` then the id,
    ``descending`` or not, and the
    statement's own ORDER BY is replaced: page 4 000 costs what page 1 does. Without it the
    statement keeps its ORDER BY and pages are numbered (``OFFSET``), fine for short lists.
    The result has ``items`` (also iterable), ``total``, ``capped``, ``number``, ``pages``,
    ``has_next`` and ``has_prev`` (docs/plugins.md, "Lists")."""
    if id_column is not None:
        return keyset_page(
            statement, sort=sort, id_column=id_column, descending=descending, per_page=per_page
        )
    return offset_page(statement, per_page=per_page)


def paginate_list(items: Sequence[Any], *, per_page: int = 50) -> Page:
    """Numbered pages (``?page=N``) of a list the plugin computed in Python, for the same
    ``pagination`` macro: the page renders ``per_page`` rows of it, never all of them. Prefer
    :func:`paginate` wherever SQL can choose and order the rows (docs/performance.md)."""
    return sequence_page(items, per_page=per_page)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to a page of the portal, built on the ``base_url`` setting, for mail
    sent from jobs (outside any request)."""
    return _external_url(endpoint, **values)


# --- the audit log ----------------------------------------------------------------------------


def register_audit_sentence(action: str, template: Any) -> None:
    """Say how a plugin's audit action reads in the log and histories: ``template`` is a
    ``lazy_gettext`` string with named placeholders, ``%(actor)s``, ``%(object)s``, each field of
    the entry's ``after`` by name and its ``before`` value as ``old_<field>``. Register
    ``"<action>:<field>"`` for a sentence used when that field changed. Without one, an entry
    reads as a generic sentence ("Anna Admin changed the service #5"), never as its key."""
    audit_sentences.register_sentence(action, template)


def register_audit_field(
    name: str, label: Any, values: Mapping[Any, Any] | None = None, *, entity: str = ""
) -> None:
    """Label a field the plugin's audit entries record (of one ``entity`` only, if given) and
    optionally its stored values (``{"bank": _l("Bank transfer")}``)."""
    audit_sentences.register_field(name, label, values, entity=entity)


# --- demo data (the ``load_demo_data`` hook) ---------------------------------------------------


def add_demo_products(
    group: str, products: Sequence[DemoProduct], sort_order: int = 100
) -> dict[str, Product]:
    """The products described by ``products`` (:class:`DemoProduct`: name, type, module, prices
    per cycle in RUB, an optional quantity option, plugin fields, upgrade paths) in the product
    group ``group``, created if missing; a product already there keeps what staff set. Returns
    them by name. Joins the transaction."""
    return demo.add_demo_products(group, products, sort_order)


def add_demo_client(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    company: str = "",
    language: str = "ru",
) -> Client:
    """The demo client who signs in with ``email`` and ``password``, registered if missing (as
    through the sign-up page, which commits)."""
    return demo.add_demo_client(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        company=company,
        language=language,
    )


def add_demo_service(
    client: Client,
    product: Product,
    *,
    cycle: str,
    start: date,
    quantities: Mapping[int, int] | None = None,
) -> Service:
    """An active service of ``product`` for ``client`` whose current period started on
    ``start`` ({option id: quantity}), as if imported from another billing system: no order,
    no invoice, no provisioning command. The client's existing service of the product is
    returned unchanged. Joins the transaction."""
    return demo.add_demo_service(client, product, cycle=cycle, start=start, quantities=quantities)


# --- mail -------------------------------------------------------------------------------------


def email_client(
    client: Client,
    *,
    subject: str,
    text: str,
    kind: str = "general",
    dedupe_key: str | None = None,
) -> None:
    """Queue a plain-text letter to ``client`` and the contacts who receive ``kind`` of mail
    ("general", "invoices", "support" or "services") in the outbox, which delivers it with
    retries. Write it in the client's language (:func:`client_locale`). A ``dedupe_key`` used
    before adds nothing (a job that runs twice mails once). Joins the caller's transaction: the
    letter goes once it commits."""
    to, *cc = recipients(client, MailKind(kind))
    queue_email(
        to=to, cc=cc, subject=subject, text=text, client_id=client.id, dedupe_key=dedupe_key
    )


def staff_locale(staff: Staff) -> AbstractContextManager[Any]:
    """``with staff_locale(staff):`` — texts for a staff member (a reminder) are in their
    language, or the portal's default."""
    return force_locale(staff.language or current_app.config["BABEL_DEFAULT_LOCALE"])


def email_staff(staff: Staff, *, subject: str, text: str, dedupe_key: str | None = None) -> bool:
    """Queue a plain-text letter to a staff member (a reminder, a task) in the outbox, marked
    auto-generated. Write it in their language (:func:`staff_locale`). False, queuing nothing,
    for a blocked staff member. A ``dedupe_key`` used before adds nothing (a job that runs
    twice mails once). Joins the caller's transaction: the letter goes once it commits."""
    if not staff.is_active:
        return False
    queue_email(
        to=staff.email,
        subject=subject,
        text=text,
        headers={"Auto-Submitted": "auto-generated"},
        dedupe_key=dedupe_key,
    )
    return True
