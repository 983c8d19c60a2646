"""The large data set the PostgreSQL benchmarks share: 100 000 clients and 1 000 000 invoices.

Used by ``bench/reports.py`` (database ``portal_bench_reports``) and ``bench/pages.py``
(``portal_bench_pages``); not a benchmark itself (``make bench`` skips it). The seed (not
measured), in ``INSERT ... SELECT generate_series`` statements: 100 000 clients (20 managers),
200 000 services, 1 000 000 invoices over three years (paid, unpaid, partly paid, with collections,
cancelled, drafts, credit notes) with a line each, a payment per paid invoice, credit entries,
150 000 orders (some with promo codes and their promo lines), 50 000 tickets with a staff answer
each, and each paid invoice's payment allocated to it (one in ten only 90 %, the rest left on the
credit balance; a database seeded before allocations were gets them on its next run).

:func:`prepare` keeps the database between runs: it is seeded once, rebuilt when its migrations
no longer match (a revision renamed) or when the caller's seed version (kept as the database's
comment) changed, and vacuumed when new rows or indexes arrived.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, create_engine, text
from sqlalchemy.engine import make_url

CLIENTS, SERVICES, INVOICES, ORDERS, TICKETS = 100_000, 200_000, 1_000_000, 150_000, 50_000
MANAGERS = 20
#: A seeded client's e-mail and sign-in columns (no usable password), as SQL of ``i``.
CLIENT_LOGIN = {
    "email": "'client' || i || '@bench.example'",
    "password_hash": "'x'",
    "session_token": "'t' || i",
}


# --- seeding -------------------------------------------------------------------------------------


def _literal(value: Any) -> str:
    """A column default as SQL (the few kinds model defaults have)."""
    if hasattr(value, "value") and not isinstance(value, Decimal | int | str):
        value = value.value  # an enum member
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return "'" + json.dumps(value).replace("'", "''") + "'::json"
    return "'" + str(value).replace("'", "''") + "'"


def insert_series(table: Table, count: int, values: Mapping[str, str], source: str = "") -> None:
    """``INSERT INTO table SELECT ... FROM generate_series(1, count) AS g(i)``: ``values`` are SQL
    expressions of ``i``; every other NOT NULL column gets its model default, so columns other
    branches add keep working."""
    from portal.core.extensions import db

    columns, expressions = [], []
    for column in table.columns:
        if column.name in values:
            expression = values[column.name]
        elif column.primary_key or column.server_default is not None or column.nullable:
            continue
        elif column.default is not None and column.default.is_scalar:
            expression = _literal(column.default.arg)
        elif column.default is not None and column.default.is_callable:
            expression = _literal(column.default.arg(None))
        else:
            raise RuntimeError(f"{table.name}.{column.name} needs a value in the bench seed")
        columns.append(f'"{column.name}"')
        expressions.append(expression)
    db.session.execute(
        text(
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"SELECT {', '.join(expressions)} FROM generate_series(1, {count}) AS g(i) {source}"
        )
    )


def seed(clients: int) -> None:
    """The data set of the module docstring for ``clients`` clients (everything scales), in the
    session's transaction, committed at the end."""
    from portal.core.extensions import db

    t = db.metadata.tables
    scale = clients / CLIENTS
    services, invoices = int(SERVICES * scale), int(INVOICES * scale)
    orders, tickets = int(ORDERS * scale), int(TICKETS * scale)
    started = time.perf_counter()
    insert_series(
        t["staff"],
        MANAGERS,
        {
            "email": "'manager' || i || '@bench.example'",
            "password_hash": "'x'",
            "session_token": "'s' || i",
            "first_name": "'Менеджер'",
            "last_name": "'№' || i",
            "created_at": "now()",
        },
    )
    insert_series(
        t["department"], 3, {"name": "'Отдел ' || i", "email": "'dept' || i || '@bench.example'"}
    )
    insert_series(t["product_group"], 1, {"name": "'Облако'"})
    insert_series(
        t["product"],
        4,
        {
            "group_id": "(SELECT min(id) FROM product_group)",
            "name": "'Продукт ' || i",
            "created_at": "now()",
        },
    )
    insert_series(
        t["promo_code"],
        10,
        {
            "code": "'PROMO' || i",
            "kind": "'percent'",
            "value": "10",
            "created_at": "now()",
        },
    )
    # Clients registered over three years; a manager for nine in ten; a limit for one in ten.
    insert_series(
        t["client"],
        clients,
        {
            **CLIENT_LOGIN,
            "first_name": "'Клиент'",
            "last_name": "'№' || i",
            "company": "CASE WHEN i % 3 = 0 THEN 'ООО «Клиент ' || i || '»' ELSE '' END",
            "currency": "CASE WHEN i % 20 = 0 THEN 'EUR' ELSE 'RUB' END",
            "manager_id": f"CASE WHEN i % 10 = 0 THEN NULL ELSE (i % {MANAGERS}) + 1 END",
            "credit_limit": "CASE WHEN i % 10 = 1 THEN 50000 END",
            "created_at": "TIMESTAMPTZ '2023-12-01 00:00+00' + (i * INTERVAL '15 minutes')",
        },
    )
    insert_series(
        t["service"],
        services,
        {
            "client_id": f"((i - 1) % {clients}) + 1",
            "product_id": f"(SELECT min(id) FROM product) + (i - 1) / {clients}",
            "status": "(ARRAY['active','active','active','active','active','active',"
            "'active','suspended','terminated','cancelled'])[(i % 10) + 1]",
            "cycle": "(ARRAY['monthly','monthly','monthly','quarterly','semi_annual','annual'])"
            "[(i % 6) + 1]",
            "currency": f"CASE WHEN (((i - 1) % {clients}) + 1) % 20 = 0 THEN 'EUR' ELSE 'RUB' END",
            "registration_date": "DATE '2024-01-01' + (i % 1000)",
            "period_start": "DATE '2026-11-01' + (i % 60) - 30",
            "next_due_date": "DATE '2026-12-01' + (i % 365) - 30",
            "recurring_amount": "500 + (i % 40) * 100",
            "created_at": "now()",
        },
    )
    # Invoices over three years, each client every ten days or so; 85 % paid.
    seed_invoices(invoices, f"((i - 1) % {clients}) + 1", "B-")
    insert_series(
        t["credit_entry"],
        clients // 2,
        {
            "client_id": "i * 2",
            "currency": "client.currency",
            "amount": "(i % 50) * 10",
            "reason": "'overpayment'",
            "created_at": "now()",
        },
        "JOIN client ON client.id = g.i * 2",
    )
    # Orders: one in twenty with a promo code, whose first invoice gets a promo line.
    insert_series(
        t["sales_order"],
        orders,
        {
            "client_id": f"((i - 1) % {clients}) + 1",
            "status": "(ARRAY['active','active','active','pending','cancelled','fraud'])"
            "[(i % 6) + 1]",
            "currency": "'RUB'",
            "promo_code_id": "CASE WHEN i % 20 = 0 THEN (SELECT min(id) FROM promo_code) "
            "+ i % 10 END",
            "invoice_id": f"i * {max(invoices // orders, 1)}",
            "created_at": "TIMESTAMPTZ '2023-12-01 00:00+00' + (i * INTERVAL '10 minutes')",
        },
    )
    insert_series(
        t["invoice_line"],
        orders // 20,
        {
            "invoice_id": "sales_order.invoice_id",
            "position": "2",
            "kind": "'promo'",
            "description": "'Промокод'",
            "unit_price": "-100",
            "discount": "100",
            "amount": "-100",
            "net": "-100",
            "tax": "0",
            "total": "-100",
        },
        "JOIN sales_order ON sales_order.id = g.i * 20",
    )
    opened = "TIMESTAMPTZ '2025-06-01 00:00+00' + (i * INTERVAL '13 minutes')"
    insert_series(
        t["ticket"],
        tickets,
        {
            "reference": "'T' || i",
            "client_id": f"(i % {clients}) + 1",
            "department_id": "(SELECT min(id) FROM department) + i % 3",
            "status": "CASE WHEN i % 5 = 0 THEN 'open' ELSE 'closed' END",
            "assigned_staff_id": f"(i % {MANAGERS}) + 1",
            "subject": "'Вопрос'",
            "cc": "'[]'::json",
            "created_at": opened,
            "updated_at": opened,
            "last_reply_at": opened,
            "first_response_at": f"{opened} + (i % 300) * INTERVAL '1 minute'",
            "first_response_due_at": f"{opened} + INTERVAL '2 hours'",
            "resolution_due_at": f"{opened} + INTERVAL '1 day'",
            "response_due_at": f"CASE WHEN i % 5 = 0 THEN {opened} + INTERVAL '2 hours' END",
            "closed_at": f"CASE WHEN i % 5 <> 0 THEN {opened} + (i % 50) * INTERVAL '1 hour' END",
            "feedback_score": "CASE WHEN i % 4 = 0 THEN (i % 5) + 1 END",
        },
    )
    insert_series(
        t["ticket_message"],
        tickets,
        {
            "ticket_id": "i",
            "kind": "'staff'",
            "source": "'web'",
            "staff_id": f"(i % {MANAGERS}) + 1",
            "body": "'Ответ'",
            "created_at": f"{opened} + (i % 300) * INTERVAL '1 minute'",
        },
    )
    seed_allocations()
    db.session.commit()
    print(f"seeded in {time.perf_counter() - started:.0f} s")


def seed_invoices(count: int, client: str, prefix: str) -> None:
    """``count`` invoices of ``client`` (an SQL expression of ``i``) over three years, 85 % paid
    (a payment each), a line each, numbered ``prefix`` and ``i``; in the session's transaction."""
    from portal.core.extensions import db

    t = db.metadata.tables
    first = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM invoice"))
    # Ids follow on from the last invoice (a rolled-back seed may have used some up).
    db.session.execute(
        text("SELECT setval(pg_get_serial_sequence('invoice', 'id'), :last, :used)"),
        {"last": max(first, 1), "used": first > 0},
    )
    status = (
        "(ARRAY['paid','paid','paid','paid','paid','paid','paid','paid','paid','paid','paid',"
        "'paid','paid','paid','paid','paid','paid','unpaid','partially_paid','cancelled',"
        "'draft','collections'])[(i % 22) + 1]"
    )
    issue = "(DATE '2023-12-01' + (i % 1095))"
    total = "(1000 + (i % 97) * 50)"
    insert_series(
        t["invoice"],
        count,
        {
            "client_id": client,
            "kind": "CASE WHEN i % 100 = 0 THEN 'credit_note' ELSE 'invoice' END",
            "status": status,
            "number": f"CASE WHEN i % 22 <> 20 THEN '{prefix}' || i END",
            "currency": f"CASE WHEN ({client}) % 20 = 0 THEN 'EUR' ELSE 'RUB' END",
            "issue_date": f"CASE WHEN i % 22 <> 20 THEN {issue} END",
            "due_date": f"{issue} + 10",
            "tax_date": f"CASE WHEN i % 22 <> 20 THEN {issue} END",
            "paid_date": f"CASE WHEN i % 22 < 17 THEN {issue} + (i % 15) END",
            "subtotal": total,
            "tax": "0",
            "total": total,
            "amount_paid": f"CASE WHEN i % 22 < 17 THEN {total} "
            f"WHEN i % 22 = 18 THEN {total} / 2 ELSE 0 END",
            "buyer": "'{}'::json",
            "issued_at": f"CASE WHEN i % 22 <> 20 THEN {issue}::timestamp AT TIME ZONE 'UTC' END",
            "created_at": f"{issue}::timestamp AT TIME ZONE 'UTC'",
        },
    )
    insert_series(
        t["invoice_line"],
        count,
        {
            "invoice_id": f"{first} + i",
            "position": "1",
            "description": "'Услуга'",
            "unit_price": total,
            "amount": total,
            "net": total,
            "tax": "0",
            "total": total,
            "tax_percent": "CASE WHEN i % 2 = 0 THEN 20 END",
        },
    )
    insert_series(
        t["payment"],
        count,
        {
            "client_id": "invoice.client_id",
            "method": "'bank_transfer'",
            "reference": "'P' || invoice.id",
            "reference_key": "'P' || invoice.id",
            "payment_date": "invoice.paid_date",
            "currency": "invoice.currency",
            "amount": "invoice.total",
            "created_at": "invoice.created_at",
        },
        f"JOIN invoice ON invoice.id = {first} + g.i WHERE invoice.status = 'paid'",
    )


def seed_allocations(after: int = 0) -> None:
    """Each paid invoice's payment (of id above ``after``) allocated to it: in full, except one
    in ten allocated 90 % (the rest left on the credit balance), so the income report's VAT and
    product split read real allocations. Also run by itself on a database seeded before
    allocations were."""
    from portal.core.extensions import db

    last = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM payment"))
    insert_series(
        db.metadata.tables["payment_allocation"],
        last - after,
        {
            "payment_id": "payment.id",
            "invoice_id": "invoice.id",
            "amount": "CASE WHEN invoice.id % 10 = 3 THEN round(payment.amount * 0.9, 2) "
            "ELSE payment.amount END",
        },
        f"JOIN payment ON payment.id = {after} + g.i "
        "JOIN invoice ON invoice.id = substr(payment.reference_key, 2)::int "
        "WHERE payment.reference_key LIKE 'P%' AND payment.kind = 'payment'",
    )


# --- the database --------------------------------------------------------------------------------


def _server() -> Any:
    from portal.testing.databases import postgres_server_url

    return make_url(postgres_server_url())


def _admin(sql: str) -> Any:
    engine = create_engine(_server(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result = connection.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def _drop(database: str) -> None:
    _admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' "
        "AND pid <> pg_backend_pid()"
    )
    _admin(f'DROP DATABASE IF EXISTS "{database}"')


def _database(database: str, reseed: bool) -> str:
    if reseed:
        _drop(database)
    if not _admin(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"):
        _admin(f'CREATE DATABASE "{database}"')
    return _server().set(database=database).render_as_string(hide_password=False)


def _versions() -> set[str]:
    from portal.core.extensions import db

    try:
        return set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:
        db.session.rollback()
        return set()


def _vacuum(url: Any) -> None:
    """Index-only scans need the visibility map VACUUM writes (autovacuum would, later)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def _seed_version(database: str) -> str | None:
    return _admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        f"WHERE datname = '{database}'"
    )


def prepare(
    database: str,
    app_factory: Callable[[str], Any],
    *,
    clients: int = CLIENTS,
    reseed: bool = False,
    version: str = "",
    extra: Callable[[], None] | None = None,
) -> Any:
    """The Flask app (``app_factory(url)``) on ``database``, seeded and up to date. ``extra``
    adds what one bench needs beyond :func:`seed` (run once, after it, in the same build); with
    a ``version``, a database whose comment differs (or is missing: a build that stopped half
    way) is built again, so changing ``extra`` means changing ``version``."""
    from portal.core.extensions import db
    from portal.platform.plugin_migrations import upgrade_all

    if version and _seed_version(database) not in (None, version):
        print(f"rebuilding {database}: its seed is not {version}")
        reseed = True
    url = _database(database, reseed)
    app = app_factory(url)
    with app.app_context(), app.test_request_context():
        try:
            before = _versions()
            upgrade_all()
            db.session.remove()
            seeded = db.session.scalar(text("SELECT count(*) FROM client"))
            if seeded and version and _seed_version(database) != version:
                seeded = 0  # an earlier build stopped before its end
        except Exception as exc:  # a revision of the kept database no longer exists
            print(f"rebuilding {database}: {str(exc).splitlines()[0]}")
            seeded = 0
        if not seeded:
            # A new database: the seed counts on ids from 1 (a failed seed used some up).
            db.session.remove()
            db.engine.dispose()
            _database(database, reseed=True)
            upgrade_all()
            db.session.remove()
            seed(clients)
            if extra is not None:
                extra()
                db.session.commit()
            if version:
                _admin(f"COMMENT ON DATABASE \"{database}\" IS '{version}'")
            before = set()
        elif not db.session.scalar(text("SELECT count(*) FROM payment_allocation")):
            started = time.perf_counter()
            seed_allocations()
            db.session.commit()
            print(f"payment allocations seeded in {time.perf_counter() - started:.0f} s")
            before = set()
        if _versions() != before:  # new rows or new indexes: fresh statistics, visibility map
            db.session.remove()
            started = time.perf_counter()
            _vacuum(db.engine.url)
            print(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")
        counts = {
            name: db.session.scalar(text(f"SELECT count(*) FROM {name}"))
            for name in ("client", "invoice", "service", "payment", "sales_order", "ticket")
        }
        db.session.remove()
    print(f"PostgreSQL {database}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return app
