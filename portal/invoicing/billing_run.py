"""The billing run: renewal invoices for every service coming due, exactly once.

For every active (or suspended) service whose next due date falls within the "invoice N days
before due" window (setting ``invoice_days_before_due``, overridable per product), the run bills
the next period in advance and advances the service's dates. Usage-billed products are renewed
on their due date, and the invoice also carries the usage of the period that has just ended, as
plugins report it (``collect_usage`` hook), billed in arrears. A client gets
one invoice per run (one per service with ``separate_invoices``), issued or left as a draft per
the ``renewal_invoices_as_drafts`` setting. An issued invoice takes the client's credit balance
in its currency (a downgrade's credit, an overpayment) in the same transaction, as staff's
"apply credit" would: partly paid, or paid (``invoice_paid`` fires) when the credit covers it.

Exactly once, by construction (DESIGN §5):

* every billed period is a ``billed_period`` row, unique per (service, period start), inserted
  with ON CONFLICT DO NOTHING in the transaction that writes the invoice and moves the dates — a
  second run, or a second worker, finds nothing left to bill;
* clients are claimed in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several workers
  share a large run without waiting for each other; each batch is one transaction, so a run that
  dies loses only its current batch, and running it again completes the rest;
* a batch prices its renewals, then becomes the writer (``begin_writing``: on SQLite the
  database's writer lock) and reads its services' dates again: a service whose dates another
  run (for another date, say) moved meanwhile is left to the next run, never billed from stale
  dates; pricing stays outside the lock, so other writers get their turn between batches;
* a renewal is billed whole or not at all: when another run won some of its periods first, the
  periods this batch did win are given back in the same transaction (no billed period is left
  without its invoice line, and the service's next run finds them free);
* invoice numbers for a batch are taken in one block from the locked series counter in the same
  transaction: gapless however the run ends.

The batch path writes with bulk statements (a 100 000-service run must stay near the speed of a
plain bulk insert: ``bench/billing_run.py``); ORM objects are loaded only when plugins listen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice, takewhile
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import ARRAY, Insert, and_, any_, bindparam, cast, column, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.billing import Cycle
from portal.catalog import catalog, client_rules, tax
from portal.catalog.models import Addon, Product, ProductType
from portal.core.app_state import clock, plugins
from portal.core.extensions import db
from portal.core.transactions import begin_writing
from portal.invoicing import invoices, payments
from portal.invoicing.models import (
    BilledPeriod,
    BillingRun,
    BillingRunStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from portal.orders.models import Service, ServiceAddon, ServiceOption, ServiceStatus
from portal.platform import runtime_settings
from portal.platform.hooks import events
from portal.platform.jobs.runs import error_text

#: A ``Service`` (client, add-on) model or a row of its columns: the run reads rows, the
#: forecast models; both only read the columns.
ServiceData = Any
ClientData = Any
AddonData = Any

DEFAULT_DAYS_BEFORE_DUE = 7
BATCH_SIZE = 500
#: Services in these states are renewed (a suspended service still runs up its periods).
RENEWED = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
#: A service that missed runs is caught up at most this many periods in one run.
MAX_PERIODS_PER_RUN = 24


@dataclass
class RunReport:
    run_id: int
    clients: int = 0
    invoices: int = 0
    lines: int = 0
    services: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class DueLine:
    """One line the run will bill, for a service and the period whose renewal it belongs to
    (a usage line's own period is the one before)."""

    service_id: int
    period: billing.Period
    line: billing.InvoiceLine


@dataclass
class _Renewal:
    """A service's new dates after the run, and the periods it bills."""

    service_id: int
    client_id: int
    period_start: date
    next_due: date
    periods: list[billing.Period] = field(default_factory=list)
    lines: list[DueLine] = field(default_factory=list)


class WrittenInvoice(NamedTuple):
    """An invoice a batch wrote, as its e-mail needs it (no ORM object is loaded for that)."""

    id: int
    client_id: int
    number: str | None
    status: InvoiceStatus


def days_before_due() -> int:
    value = runtime_settings.get("invoice_days_before_due", DEFAULT_DAYS_BEFORE_DUE)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return DEFAULT_DAYS_BEFORE_DUE


def as_drafts() -> bool:
    return bool(runtime_settings.get("renewal_invoices_as_drafts", False))


def window_days(product: Product, default_days: int) -> int:
    days = product.invoice_days_before_due
    return default_days if days is None else max(0, days)


def _due_services(horizon: date) -> Any:
    """The condition for a service the run may bill by ``horizon`` (the widest window)."""
    return and_(
        Service.status.in_(RENEWED),
        Service.terminate_at_period_end.is_(False),
        Service.next_due_date.is_not(None),
        Service.next_due_date <= horizon,
    )


# --- pricing a service's renewal ----------------------------------------------------------------


def usage_collectors() -> dict[str, billing.UsageCollector]:
    """Usage collectors by name (``register_usage_collectors``); the first registered wins."""
    return plugins().by_name("register_usage_collectors")


class RenewalPricing:
    """What a batch needs to price renewals, loaded once per run (products, add-ons, rates)."""

    def __init__(self, as_of: date, *, usage: bool = True) -> None:
        self.as_of = as_of
        self.default_days = days_before_due()
        self.products = {p.id: p for p in db.session.scalars(select(Product))}
        self.addons = {a.id: a for a in db.session.scalars(select(Addon))}
        self.rates = tax.tax_rates()
        self.tax_hook = bool(plugins().hook.resolve_tax_rate.get_hookimpls())
        self.usage_hook = usage and bool(plugins().hook.collect_usage.get_hookimpls())
        self.collectors = usage_collectors() if usage else {}
        self._details: dict[tuple[int, str, frozenset[tuple[int, int]]], tuple[str, ...]] = {}
        self._taxes: dict[tuple[Any, ...], billing.LineTax] = {}
        # Most services of a run share a due date, a cycle and a price: their periods and
        # lines are computed once (both are immutable values).
        self._periods: dict[tuple[Any, ...], list[UpcomingPeriod]] = {}
        self._charges: dict[tuple[Any, ...], billing.InvoiceLine] = {}
        # The clients' own discounts and tax rules, loaded a batch at a time (load_clients).
        self._rules: dict[int, client_rules.ClientRules] = {}
        self._promo_services: set[int] = set()
        self._discount_details: dict[tuple[str, Decimal], str] = {}

    def load_clients(self, client_ids: Sequence[int]) -> None:
        """Read the batch's personal discounts and tax rules in a few queries (not one per
        client or per line), and which of their services hold a recurring promo code."""
        loaded = client_rules.rules_for(client_ids)
        self._rules = {
            client_id: loaded.get(client_id, client_rules.NO_RULES) for client_id in client_ids
        }
        discounted = [client_id for client_id, rules in loaded.items() if rules.discounts]
        self._promo_services = set(catalog.recurring_promo_services(discounted))

    def rules(self, client_id: int) -> client_rules.ClientRules:
        """A client's rules; a client outside the loaded batch (the forecast) is read alone."""
        if client_id not in self._rules:
            self.load_clients([client_id])
        return self._rules[client_id]

    def personal_coefficient(
        self, service: ServiceData, client: ClientData, product: Product, period: billing.Period
    ) -> Decimal:
        """The client's personal discount for the period's first day, as a coefficient (a
        price staff set by hand gets none)."""
        if service.price_override is not None:
            return billing.ONE
        personal = self.rules(client.id).discounts_on(period.start)
        if not personal:
            return billing.ONE
        cycle = Cycle.parse(service.cycle)
        component = billing.Component.RECURRING
        return billing.resolve_discount(product.id, cycle, component, personal=personal).coefficient

    def list_price(
        self, service: ServiceData, product: Product, options: Mapping[int, int]
    ) -> Decimal:
        """The recurring amount, without a recurring promo code when a personal discount
        replaces it (they never stack)."""
        if service.id not in self._promo_services:
            return service.recurring_amount
        configured = catalog.configure(product, service.currency, options)
        return configured.price(Cycle.parse(service.cycle))

    def discount_detail(self, client: ClientData, coefficient: Decimal) -> str:
        language = client.language or current_app.config["BABEL_DEFAULT_LOCALE"]
        key = (language, coefficient)
        if key not in self._discount_details:
            with force_locale(language):
                self._discount_details[key] = client_rules.discount_detail(coefficient)
        return self._discount_details[key]

    @property
    def horizon(self) -> date:
        widest = max(
            [self.default_days] + [p.invoice_days_before_due or 0 for p in self.products.values()]
        )
        return self.as_of + timedelta(days=widest)

    def details(
        self, product: Product, currency: str, values: Mapping[int, int]
    ) -> tuple[str, ...]:
        key = (product.id, currency, frozenset(values.items()))
        if key not in self._details:
            self._details[key] = tuple(catalog.option_details(product, currency, values))
        return self._details[key]

    def periods_due(self, service: ServiceData, product: Product) -> list[UpcomingPeriod]:
        """The periods of ``service`` this run bills (none when it is not due yet)."""
        key = (
            service.cycle, service.next_due_date, service.period_start, service.anchor_day,
            invoice_window(product, self.default_days),
        )  # fmt: skip
        if key not in self._periods:
            last = self.as_of + timedelta(days=key[-1])
            due = takewhile(lambda upcoming: upcoming.due <= last, upcoming_periods(service))
            self._periods[key] = list(islice(due, MAX_PERIODS_PER_RUN))
        return self._periods[key]

    def charge(
        self,
        description: str,
        price: Decimal,
        currency: str,
        period: billing.Period,
        line_tax: billing.LineTax,
        details: tuple[str, ...] = (),
        coefficient: Decimal = billing.ONE,
    ) -> billing.InvoiceLine:
        """``billing.charge_line`` for a renewal, computed once per distinct line."""
        key = (description, price, currency, period, line_tax, details, coefficient)
        if key not in self._charges:
            self._charges[key] = billing.charge_line(
                description,
                price,
                currency,
                period=period,
                line_tax=line_tax,
                details=details,
                coefficient=coefficient,
            )
        return self._charges[key]

    def line_tax(self, client: ClientData, product: Product, tax_date: date) -> billing.LineTax:
        own = self.rules(client.id).taxes
        if self.tax_hook:  # a plugin decides per client: no sharing between clients
            return catalog.line_tax(client, product, tax_date, client_rules=own)
        key = (
            client.tax_exempt, client.country, product.type, product.tax_inclusive, tax_date, own,
        )  # fmt: skip
        if key not in self._taxes:
            context = billing.TaxContext(
                tax_date=tax_date,
                product_type=product.type.value,
                tax_exempt=client.tax_exempt,
                country=client.country,
            )
            percent = billing.resolve_tax_rate(context, self.rates, client_rules=own)
            self._taxes[key] = billing.LineTax(percent, inclusive=product.tax_inclusive)
        return self._taxes[key]


@dataclass(frozen=True)
class UpcomingPeriod:
    """A period a service will be billed for (in advance), the period that ends as it starts
    (whose usage is billed with it, in arrears), and the service's dates once it is billed."""

    due: date
    period: billing.Period
    used: billing.Period

    @property
    def period_start(self) -> date:
        return self.period.start

    @property
    def next_due(self) -> date:
        return self.period.end


def upcoming_periods(service: ServiceData) -> Iterator[UpcomingPeriod]:
    """The service's coming periods, in order, without end."""
    cycle = Cycle.parse(service.cycle)
    due = service.next_due_date
    start = service.period_start or billing.next_due(due, cycle, -1, anchor_day=service.anchor_day)
    while True:
        following = billing.next_due(due, cycle, anchor_day=service.anchor_day)
        yield UpcomingPeriod(due, billing.Period(due, following), billing.Period(start, due))
        start, due = due, following


def invoice_window(product: Product, default_days: int) -> int:
    """Days before the due date a period is invoiced; usage-billed products are invoiced on
    the due date, when the usage of the period that ends is known."""
    return 0 if product.type is ProductType.USAGE else window_days(product, default_days)


def renewal_lines(
    service: ServiceData,
    client: ClientData,
    product: Product,
    upcoming: UpcomingPeriod,
    options: Mapping[int, int],
    addons: Sequence[AddonData],
    pricing: RenewalPricing,
) -> list[billing.InvoiceLine]:
    """The lines renewing ``service`` for ``upcoming.period``: the product with its options,
    its add-ons, and for usage-billed products the usage of ``upcoming.used``."""
    currency, period = service.currency, upcoming.period
    line_tax = pricing.line_tax(client, product, pricing.as_of)
    # ``service`` is a row of the batch query, not a Service: Service.renewal_price's rule.
    price = (
        service.price_override if service.price_override is not None else service.recurring_amount
    )
    lines = []
    coefficient = pricing.personal_coefficient(service, client, product, period)
    if coefficient != billing.ONE:
        price = pricing.list_price(service, product, options)
    if price > 0:
        details = pricing.details(product, currency, options)
        if coefficient != billing.ONE:
            details = (*details, pricing.discount_detail(client, coefficient))
        lines.append(
            pricing.charge(product.name, price, currency, period, line_tax, details, coefficient)
        )
    for held in addons:
        if held.recurring_amount > 0:
            name = pricing.addons[held.addon_id].name
            lines.append(pricing.charge(name, held.recurring_amount, currency, period, line_tax))
    if product.type is ProductType.USAGE and (pricing.usage_hook or pricing.collectors):
        model = db.session.get(Service, service.id)  # plugins get the model, not a row
        collector = pricing.collectors.get(product.module or "")  # the product's own, first
        collected = [collector.collect(model, upcoming.used)] if collector else []
        collected += plugins().hook.collect_usage(service=model, period=upcoming.used)
        for charges in collected:
            for charge in charges or ():
                lines.append(
                    billing.charge_line(
                        charge.description,
                        charge.unit_price,
                        currency,
                        quantity=charge.quantity,
                        period=upcoming.used,
                        line_tax=line_tax,
                        component=billing.Component.USAGE,
                        details=charge.details,
                    )
                )
    return lines


# --- claiming and writing a batch ---------------------------------------------------------------


def _on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _insert(table: Any) -> Insert:
    return (postgresql.insert if _on_postgres() else sqlite.insert)(table)


def _rows_table(table: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Any:
    """PostgreSQL: ``rows`` as a table ``new`` with ``table``'s columns ``names``, sent as one
    array per column and joined with ``unnest``. psycopg runs an executemany as a statement per
    row and parses a statement with a placeholder per value on every batch; both cost the run
    more than the database's work."""
    arrays = [
        cast(bindparam(f"new_{name}", [row[i] for row in rows]), ARRAY(table.c[name].type))
        for i, name in enumerate(names)
    ]
    return (
        func.unnest(*arrays)
        .table_valued(*(column(name, table.c[name].type) for name in names))
        .render_derived(name="new")
    )


def _among(column_: Any, values: Sequence[Any]) -> Any:
    """``column IN values``; on PostgreSQL ``= ANY(array)``, one parameter (see above)."""
    if _on_postgres():
        return column_ == any_(cast(bindparam(None, list(values)), ARRAY(column_.type)))
    return column_.in_(values)


def _claim(horizon: date, after: int, size: int) -> list[int]:
    """Lock the next ``size`` clients (by id, after ``after``) with services due by ``horizon``.

    On PostgreSQL the lock is ``FOR UPDATE SKIP LOCKED``: a client another worker is billing is
    skipped, not waited for. SQLite has no row locks: ``_still_due`` checks the batch's dates
    again once the batch is the writer.
    """
    # EXISTS per client, walked in id order from the cursor: each batch reads only as far as it
    # needs (an IN over all due services would rescan them for every batch of a large run).
    due = select(Service.id).where(Service.client_id == Client.id, _due_services(horizon))
    query = select(Client.id).where(Client.id > after, due.exists()).order_by(Client.id).limit(size)
    if _on_postgres():
        query = query.with_for_update(skip_locked=True, of=Client)
    return list(db.session.scalars(query))


_CLIENT_COLUMNS = (
    "id", "currency", "language", "tax_exempt", "country", "separate_invoices",
    "payment_terms_days", *invoices.BUYER_FIELDS,
)  # fmt: skip
_SERVICE_COLUMNS = (
    "id", "client_id", "product_id", "cycle", "currency", "period_start", "next_due_date",
    "anchor_day", "recurring_amount", "price_override",
)  # fmt: skip


def _load_batch(client_ids: Sequence[int], horizon: date) -> tuple[
    dict[int, Any], list[Any], dict[int, dict[int, int]], dict[int, list[Any]]
]:  # fmt: skip
    """The claimed clients and their due services, options and add-ons, as plain rows (a batch
    reads thousands of them; ORM objects would cost more than the rest of the run)."""
    client_columns = [getattr(Client, name) for name in dict.fromkeys(_CLIENT_COLUMNS)]
    clients = {
        row.id: row
        for row in db.session.execute(select(*client_columns).where(_among(Client.id, client_ids)))
    }
    # Read by client (its index) and filter here: with the due-date condition in SQL the
    # planner may walk the due-date index over every due service of the run, for each batch.
    columns = [getattr(Service, name) for name in _SERVICE_COLUMNS]
    held = db.session.execute(
        select(*columns, Service.status, Service.terminate_at_period_end)
        .where(_among(Service.client_id, client_ids))
        .order_by(Service.client_id, Service.id)
    ).all()
    services = [
        row
        for row in held
        if row.status in RENEWED
        and not row.terminate_at_period_end
        and row.next_due_date is not None
        and row.next_due_date <= horizon
    ]
    ids = [s.id for s in services]
    options: dict[int, dict[int, int]] = defaultdict(dict)
    held_options = select(
        ServiceOption.service_id, ServiceOption.option_id, ServiceOption.quantity,
        ServiceOption.choice_id,
    ).where(_among(ServiceOption.service_id, ids))  # fmt: skip
    for service_id, option_id, quantity, choice_id in db.session.execute(held_options):
        options[service_id][option_id] = choice_id if choice_id is not None else quantity
    addons: dict[int, list[Any]] = defaultdict(list)
    held = (
        select(ServiceAddon.service_id, ServiceAddon.addon_id, ServiceAddon.recurring_amount)
        .where(_among(ServiceAddon.service_id, ids), ServiceAddon.status == ServiceStatus.ACTIVE)
        .order_by(ServiceAddon.id)
    )
    for row in db.session.execute(held):
        addons[row.service_id].append(row)
    return clients, services, options, addons


def _still_due(renewals: list[_Renewal], services: Sequence[Any]) -> list[_Renewal]:
    """The renewals whose services still have the dates the batch priced them from, read again
    once this transaction is the writer (``begin_writing``).

    On SQLite each SELECT sees whatever was committed last and nothing is locked before the
    first write: a run for another date may have billed a service and moved its dates since the
    batch read them. Taking the writer lock only now keeps the slow part (pricing, usage from
    plugins) outside it, so other writers are not starved between batches.
    """
    begin_writing()
    if not renewals:
        return renewals
    read = {service.id: (service.period_start, service.next_due_date) for service in services}
    current = {
        row.id: (row.period_start, row.next_due_date)
        for row in db.session.execute(
            select(Service.id, Service.period_start, Service.next_due_date).where(
                _among(Service.id, [renewal.service_id for renewal in renewals])
            )
        )
    }
    return [r for r in renewals if current.get(r.service_id) == read[r.service_id]]


def _claim_periods(
    renewals: Iterable[_Renewal], run_id: int | None, now: datetime
) -> set[tuple[int, date]]:
    """Insert the (service, period) keys; return those this transaction won."""
    rows = [
        {
            "service_id": r.service_id,
            "period_start": period.start,
            "period_end": period.end,
            "billing_run_id": run_id,
            "created_at": now,
        }
        for r in renewals
        for period in r.periods
    ]
    if not rows:
        return set()
    table = BilledPeriod.__table__
    stmt = _insert(table)
    params: Any = rows
    if _on_postgres():
        names = list(rows[0])
        source = _rows_table(table, names, [tuple(row.values()) for row in rows])
        stmt, params = stmt.from_select(names, select(*source.c)), None
    stmt = stmt.on_conflict_do_nothing(index_elements=["service_id", "period_start"]).returning(
        table.c.service_id, table.c.period_start
    )
    return {(service_id, start) for service_id, start in db.session.execute(stmt, params)}


def _release_periods(keys: Sequence[tuple[int, date]]) -> None:
    """Delete the (service, period start) claims of a renewal this batch does not bill."""
    if not keys:
        return
    table = BilledPeriod.__table__
    stmt = table.delete().where(
        table.c.service_id == bindparam("key_service"),
        table.c.period_start == bindparam("key_start"),
    )
    db.session.execute(stmt, [{"key_service": s, "key_start": start} for s, start in keys])


def invoice_group(client: ClientData, service_id: int) -> int | None:
    """Which of a run's invoices for ``client`` bills ``service_id``: the client's one invoice
    (None), or the service's own when the client wants separate invoices. The forecast counts
    invoices by it too."""
    return service_id if client.separate_invoices else None


def _invoice_groups(client: ClientData, lines: list[DueLine]) -> list[list[DueLine]]:
    groups: dict[int | None, list[DueLine]] = defaultdict(list)
    for due in lines:
        groups[invoice_group(client, due.service_id)].append(due)
    return list(groups.values())


def _write_invoices(
    groups: Sequence[tuple[ClientData, list[DueLine]]],
    as_of: date,
    now: datetime,
    drafts: bool,
    run_id: int | None,
) -> list[WrittenInvoice]:
    """Bulk-insert the invoices, their lines and their audit entries, issued as
    ``invoices.issue_invoice`` issues one (numbers for the batch taken in one block, the audit
    entries of the batch inserted with one statement)."""
    if not groups:
        return []
    numbering = [] if drafts else invoices.take_numbering(as_of, len(groups))
    seller = {} if drafts else invoices.seller_snapshot()
    rows = []
    for n, (client, lines) in enumerate(groups):
        zero = billing.round_money(Decimal(0), client.currency)
        total = sum((d.line.total for d in lines), zero)
        row: dict[str, Any] = {
            "client_id": client.id,
            "currency": client.currency,
            "status": InvoiceStatus.DRAFT,
            "subtotal": sum((d.line.net for d in lines), zero),
            "discount": sum((d.line.discount for d in lines), zero),
            "tax": sum((d.line.tax for d in lines), zero),
            "total": total,
            "amount_paid": zero,
            "buyer": {},
            "seller": None,
            "notes": "",
            "created_at": now,
            "series": None,
            "sequence": None,
            "number": None,
            "issue_date": None,
            "tax_date": None,
            "due_date": None,
            "paid_date": None,
            "issued_at": None,
        }
        if not drafts:
            # Renewals are due when their period starts, unless the client has payment terms.
            start = min(due.period.start for due in lines)
            due = invoices.due_date(client, as_of, period_start=start)
            issued = invoices.issued_values(
                client, total, numbering[n], issue_date=as_of, due=due, issued_at=now, seller=seller
            )
            row.update(issued)
        rows.append(row)
    ids = _insert_invoices(rows, by_number=not drafts)
    line_rows = []
    for invoice_id, (_client, lines) in zip(ids, groups, strict=True):
        for position, due in enumerate(lines, start=1):
            line_rows.append(_line_values(invoice_id, position, due))
    db.session.execute(InvoiceLine.__table__.insert(), line_rows)
    # One entry per invoice, as the system: ``invoice.issue`` (written and issued in one act,
    # it has no draft of its own to log) or, for a draft, ``invoice.create``.
    actor = f"billing run #{run_id}" if run_id else "billing run"
    action = "invoice.create" if drafts else "invoice.issue"
    audit.insert_entries(
        [
            invoices.audit_entry(action, invoice_id, row, system=actor)
            for invoice_id, row in zip(ids, rows, strict=True)
        ]
    )
    return [
        WrittenInvoice(invoice_id, row["client_id"], row["number"], row["status"])
        for invoice_id, row in zip(ids, rows, strict=True)
    ]


def _insert_invoices(rows: list[dict[str, Any]], *, by_number: bool) -> list[int]:
    """Insert the invoice rows; their ids in the order of ``rows``.

    Issued invoices are inserted with a plain executemany and found again by their numbers
    (unique in the series): RETURNING in parameter order would make SQLite insert row by row, and
    it is slower on PostgreSQL too. Drafts have no number, so they ask for the ids back.
    """
    table = Invoice.__table__
    if not by_number:
        stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return list(db.session.execute(stmt, rows).scalars())
    db.session.execute(table.insert(), rows)
    series, numbers = rows[0]["series"], [row["sequence"] for row in rows]
    found = db.session.execute(
        select(table.c.sequence, table.c.id).where(
            table.c.series == series, table.c.sequence.between(min(numbers), max(numbers))
        )
    )
    ids = {sequence: invoice_id for sequence, invoice_id in found}
    return [ids[number] for number in numbers]


def _line_values(invoice_id: int, position: int, due: DueLine) -> dict[str, Any]:
    line = due.line
    return {
        "invoice_id": invoice_id,
        "position": position,
        "kind": line.kind.value,
        "description": line.description,
        "details": list(line.details),
        "service_id": due.service_id,
        "period_start": due.period.start,
        "period_end": due.period.end,
        "quantity": line.quantity,
        "unit": "",
        "unit_price": line.unit_price,
        "discount": line.discount,
        "amount": line.amount,
        "tax_percent": line.line_tax.percent or None,
        "tax_inclusive": line.line_tax.inclusive,
        "net": line.net,
        "tax": line.tax,
        "total": line.total,
    }


def _bill_batch(
    client_ids: Sequence[int], pricing: RenewalPricing, run_id: int | None
) -> RunReport:
    """Bill the claimed clients in the current transaction (the caller commits)."""
    now = clock().now()
    report = RunReport(run_id or 0)
    clients, services, options, addons = _load_batch(client_ids, pricing.horizon)
    pricing.load_clients(client_ids)
    renewals: list[_Renewal] = []
    for service in services:
        product = pricing.products[service.product_id]
        upcoming = pricing.periods_due(service, product)
        if not upcoming:
            continue
        renewal = _Renewal(
            service.id,
            service.client_id,
            upcoming[-1].period_start,
            upcoming[-1].next_due,
            [u.period for u in upcoming],
        )
        client = clients[service.client_id]
        for period in upcoming:
            for line in renewal_lines(
                service,
                client,
                product,
                period,
                options[service.id],
                addons[service.id],
                pricing,
            ):
                renewal.lines.append(DueLine(service.id, period.period, line))
        renewals.append(renewal)
    renewals = _still_due(renewals, services)
    won = _claim_periods(renewals, run_id, now)
    by_client: dict[int, list[DueLine]] = defaultdict(list)
    moved = []
    given_back: list[tuple[int, date]] = []
    for renewal in renewals:
        keys = [(renewal.service_id, p.start) for p in renewal.periods]
        if not all(key in won for key in keys):
            # Another run billed it first and moved its dates; the periods it did not reach
            # are given back, or they would stay billed with no invoice and block the service.
            given_back.extend(key for key in keys if key in won)
            continue
        moved.append((renewal.service_id, renewal.period_start, renewal.next_due))
        by_client[renewal.client_id].extend(renewal.lines)
        report.services += 1
    _release_periods(given_back)
    _update_rows(Service.__table__, ("id",), ("period_start", "next_due_date"), moved)
    groups = [
        (clients[client_id], group)
        for client_id, lines in by_client.items()
        for group in _invoice_groups(clients[client_id], lines)
        if group
    ]
    drafts = as_drafts()
    written = _write_invoices(groups, pricing.as_of, now, drafts, run_id)
    invoice_ids = [invoice.id for invoice in written]
    _link_periods(groups, invoice_ids)
    report.clients = len(client_ids)
    report.invoices = len(invoice_ids)
    report.lines = sum(len(lines) for _client, lines in groups)
    for client, lines in groups:
        amount = sum((due.line.total for due in lines), Decimal(0))
        report.totals[client.currency] = report.totals.get(client.currency, Decimal(0)) + amount
    _after_write(written, drafts=drafts)
    if not drafts:
        _apply_credit(written, pricing.as_of, f"billing run #{run_id}" if run_id else "billing run")
    return report


def _apply_credit(written: Sequence[WrittenInvoice], as_of: date, actor: str) -> None:
    """Pay the issued invoices from their clients' credit balances, in the batch's transaction
    (docs/invoices-and-payments.md: the next invoice takes the credit).

    One query finds the batch's credit balances; only invoices of clients who hold credit are
    loaded as objects and settled as a payment settles them (``invoice_paid`` fires for one the
    credit pays in full). The clients' rows are locked since ``_claim`` (PostgreSQL), which is
    the lock ``payments.apply_credit`` takes too: a manual application and the run never spend
    the same credit twice. Only invoices this batch wrote are paid, so a repeated run, which
    writes none, applies nothing again.
    """
    balances = payments.credit_balances(sorted({invoice.client_id for invoice in written}))
    holders = {client_id for client_id, _currency in balances}
    ids = [invoice.id for invoice in written if invoice.client_id in holders]
    if not ids:
        return
    for invoice in db.session.scalars(
        select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)
    ):
        key = (invoice.client_id, invoice.currency)
        available = balances.get(key, Decimal(0))
        if available > 0:
            applied = payments.spend_credit(invoice, on=as_of, available=available, system=actor)
            balances[key] = available - applied


def _link_periods(
    groups: Sequence[tuple[ClientData, list[DueLine]]], invoice_ids: Sequence[int]
) -> None:
    """Point each billed period at the invoice that bills it."""
    rows = {
        (due.service_id, due.period.start): (due.service_id, due.period.start, invoice_id)
        for invoice_id, (_client, lines) in zip(invoice_ids, groups, strict=True)
        for due in lines
    }
    table = BilledPeriod.__table__
    _update_rows(table, ("service_id", "period_start"), ("invoice_id",), list(rows.values()))


def _update_rows(
    table: Any, keys: Sequence[str], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Update many rows found by ``keys`` (each row: the keys' values, then the ``columns``'):
    an executemany on SQLite, one statement over :func:`_rows_table` on PostgreSQL."""
    if not rows:
        return
    names = (*keys, *columns)
    if _on_postgres():
        new: Any = _rows_table(table, names, rows).c
        params: Any = None
    else:
        new = {name: bindparam(f"new_{name}") for name in names}
        params = [
            {f"new_{name}": value for name, value in zip(names, row, strict=True)} for row in rows
        ]
    stmt = (
        table.update()
        .where(and_(*(table.c[key] == new[key] for key in keys)))
        .values({name: new[name] for name in columns})
    )
    db.session.execute(stmt, params)


def _after_write(written: Sequence[WrittenInvoice], *, drafts: bool) -> None:
    """Queue the issued invoices' e-mails (composed when they are sent) and tell plugins, who
    get ORM objects (loaded only when some plugin listens)."""
    from portal.invoicing.invoice_documents import queue_invoice_emails
    from portal.invoicing.stored_documents import queue_renders

    issued = [invoice for invoice in written if invoice.status is InvoiceStatus.UNPAID]
    queue_invoice_emails(issued)
    queue_renders([invoice.id for invoice in issued], clock().now())
    hooks = plugins().hook
    if not written or not any(
        getattr(hooks, name).get_hookimpls()
        for name in ("invoice_created", "invoice_issued", "service_renewed")
    ):
        return
    ids = [invoice.id for invoice in written]
    for invoice in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids))):
        _tell_plugins(invoice, drafts=drafts)


def _tell_plugins(invoice: Invoice, *, drafts: bool) -> None:
    events.fire("invoice_created", invoice=invoice)
    if not drafts:
        events.fire("invoice_issued", invoice=invoice)
    if not plugins().hook.service_renewed.get_hookimpls():
        return
    renewed = {
        (key.service_id, key.period_start, key.period_end)
        for key in db.session.scalars(
            select(BilledPeriod).where(BilledPeriod.invoice_id == invoice.id)
        )
    }
    for service_id, start, end in sorted(renewed):
        service = db.session.get(Service, service_id)
        period = billing.Period(start, end)
        events.fire("service_renewed", service=service, period=period, invoice=invoice)


# --- the run ------------------------------------------------------------------------------------


def start_run(as_of: date, started_by: str) -> BillingRun:
    """Record a run and how many clients have something due (for the progress bar). Commits."""
    pricing = RenewalPricing(as_of)
    total = db.session.scalar(
        select(func.count(func.distinct(Service.client_id))).where(_due_services(pricing.horizon))
    )
    run = BillingRun(
        as_of=as_of, started_at=clock().now(), clients_total=total or 0, started_by=started_by[:100]
    )
    db.session.add(run)
    db.session.commit()
    return run


def bill_due(
    as_of: date,
    *,
    run: BillingRun | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[RunReport], None] | None = None,
    started_by: str = "",
) -> RunReport:
    """Bill everything due by ``as_of`` (module docstring); safe to run again or in parallel."""
    run = run or start_run(as_of, started_by)
    run_id = run.id
    pricing = RenewalPricing(as_of)
    total = RunReport(run_id)
    cursor = 0
    try:
        while True:
            client_ids = _claim(pricing.horizon, cursor, batch_size)
            if not client_ids:
                break
            cursor = client_ids[-1]
            batch = _bill_batch(client_ids, pricing, run_id)
            db.session.execute(
                update(BillingRun)
                .where(BillingRun.id == run_id)
                .values(
                    clients_done=BillingRun.clients_done + batch.clients,
                    invoices=BillingRun.invoices + batch.invoices,
                    lines=BillingRun.lines + batch.lines,
                )
            )
            db.session.commit()
            _add(total, batch)
            if progress is not None:
                progress(batch)
    except Exception as exc:
        db.session.rollback()
        _finish(run_id, BillingRunStatus.FAILED, error_text(exc))
        raise
    _finish(run_id, BillingRunStatus.FINISHED)
    return total


def _add(total: RunReport, batch: RunReport) -> None:
    total.clients += batch.clients
    total.invoices += batch.invoices
    total.lines += batch.lines
    total.services += batch.services
    for currency, amount in batch.totals.items():
        total.totals[currency] = total.totals.get(currency, Decimal(0)) + amount


def _finish(run_id: int, status: BillingRunStatus, error: str = "") -> None:
    values: dict[str, Any] = {"status": status, "finished_at": clock().now()}
    if error:
        values.update(last_error=error, errors=BillingRun.errors + 1)
    db.session.execute(update(BillingRun).where(BillingRun.id == run_id).values(**values))
    db.session.commit()


def recent_runs(limit: int = 20) -> list[BillingRun]:
    return list(db.session.scalars(select(BillingRun).order_by(BillingRun.id.desc()).limit(limit)))
