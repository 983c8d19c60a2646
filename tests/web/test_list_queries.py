"""Every list page of both areas costs the same number of SQL queries with a few rows as with
hundreds (a page, not the table; no query per row), and a deep page ("last", a cursor) costs
what the first one does (docs/performance.md)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import AuditEntry, Client, Note
from portal.accounts.models.audit import ActorType
from portal.accounts.models.contact import Contact
from portal.accounts.models.todo import TodoItem
from portal.catalog.models import Addon, Product, ProductGroup
from portal.core.extensions import db
from portal.invoicing.models import CreditEntry, Invoice, InvoiceStatus, Payment
from portal.invoicing.models.bank_import import UnmatchedPayment
from portal.invoicing.models.payment import CreditReason
from portal.messaging.models.outbox import OutboundMessage
from portal.orders.models import Order, PromoCode, PromoCodeKind, Service, ServiceStatus
from portal.platform.models.job import JobRun
from portal.support.models import CannedReply, Ticket
from portal.testing.queries import queries_per_page as _count

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = date(2026, 1, 1)


def _seed(start: int, count: int, client_id: int, staff_id: int, today: date = DAY) -> None:
    """``count`` rows in every listed table, half of them the signed-in client's, dates repeating
    (ties in every sort key); half the services active and due within days of ``today``."""
    numbers = range(start, start + count)
    insert = db.session.execute
    insert(
        sa.insert(Client),
        [
            {
                "email": f"l{n}@example.com",
                "first_name": f"К{n}",
                "company": f"ООО {n % 7}",
                "password_hash": "x",
                "session_token": f"l{n}",
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(Invoice),
        [
            {
                "client_id": client_id,
                "currency": "RUB",
                "created_at": NOW,
                "number": f"2026-{n:06d}",
                "series": "2026",
                "sequence": n,
                "status": InvoiceStatus.PAID if n % 2 else InvoiceStatus.UNPAID,
                "issue_date": DAY + timedelta(days=n % 5),
                "due_date": DAY + timedelta(days=10),
                "paid_date": DAY + timedelta(days=n % 3) if n % 2 else None,
                "total": Decimal("1200.00"),
                "buyer": {},
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(Payment),
        [
            {
                "client_id": client_id,
                "method": "bank",
                "reference": f"pp{n}",
                "reference_key": f"pp{n}",
                "payment_date": DAY + timedelta(days=n % 4),
                "currency": "RUB",
                "amount": Decimal("100.00"),
                "created_at": NOW + timedelta(minutes=n),
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(CreditEntry),
        [
            {
                "client_id": client_id,
                "currency": "RUB",
                "amount": Decimal("10.00"),
                "reason": next(iter(CreditReason)),
                "created_at": NOW + timedelta(minutes=n),
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(AuditEntry),
        [
            {
                "created_at": NOW,
                "actor_type": ActorType.STAFF,
                "actor_id": staff_id,
                "action": "client.update",
                "entity": "client",
                "entity_id": str(client_id),
                "client_id": client_id,
            }
            for _ in numbers
        ],
    )
    insert(
        sa.insert(Note),
        [
            {"client_id": client_id, "body": f"n{n}", "author_id": staff_id, "created_at": NOW}
            for n in numbers
        ],
    )
    insert(
        sa.insert(Ticket),
        [
            {
                "reference": f"T-{n:06d}",
                "subject": f"Вопрос {n}",
                "client_id": client_id,
                "created_at": NOW,
                "updated_at": NOW,
                "last_reply_at": NOW + timedelta(hours=n % 3),
                # the awaiting queue: a third without a response due (read last), ties on it
                "response_due_at": None if n % 3 == 0 else NOW + timedelta(hours=n % 4),
                "assigned_staff_id": staff_id if n % 5 in (1, 2) else None,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(Order),
        [{"client_id": client_id, "currency": "RUB", "created_at": NOW} for _ in numbers],
    )
    insert(
        sa.insert(OutboundMessage),
        [
            {
                "from_addr": "billing@example.com",
                "to_addrs": ["a@example.com"],
                "subject": f"s{n}",
                "text": "t",
                "message_id": f"<m{n}@example.com>",
                "client_id": client_id,
                "next_attempt_at": NOW,
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(Contact),
        [
            {
                "client_id": client_id,
                "first_name": f"Имя {n % 5}",
                "email": f"c{n}@example.com",
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(TodoItem),
        [
            {
                "title": f"Дело {n}",
                "assignee_id": staff_id,
                "client_id": client_id,
                "due_date": None if n % 3 == 0 else DAY + timedelta(days=n % 4),
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    insert(
        sa.insert(CannedReply),
        [{"title": f"Ответ {n % 5}", "body": "b", "created_at": NOW} for n in numbers],
    )
    insert(sa.insert(Addon), [{"name": f"Дополнение {n}"} for n in numbers])
    insert(
        sa.insert(PromoCode),
        [
            {
                "code": f"P{n:06d}",
                "kind": PromoCodeKind.PERCENT,
                "value": Decimal("5"),
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    group_id = db.session.scalar(
        sa.insert(ProductGroup).values(name=f"Группа {start}").returning(ProductGroup.id)
    )
    product_ids = db.session.scalars(
        sa.insert(Product).returning(Product.id),
        [{"group_id": group_id, "name": f"Тариф {n}", "sort_order": n % 3} for n in numbers],
    ).all()
    insert(
        sa.insert(Service),
        [
            {
                "client_id": client_id,
                "product_id": product_id,
                "cycle": "monthly",
                "currency": "RUB",
                "registration_date": DAY,
                "status": ServiceStatus.ACTIVE if n % 2 else ServiceStatus.PENDING,
                # a third without a next due date (listed last), ties on the others
                "next_due_date": None if n % 3 == 0 else today + timedelta(days=n % 4),
                "created_at": NOW,
            }
            for n, product_id in zip(numbers, product_ids, strict=True)
        ],
    )
    insert(sa.insert(JobRun), [{"job_id": "mail.send", "started_at": NOW} for _ in numbers])
    insert(
        sa.insert(UnmatchedPayment),
        [
            {
                "reference": f"u{n}",
                "day": DAY + timedelta(days=n % 2),
                "currency": "RUB",
                "amount": Decimal("5.00"),
                "created_at": NOW,
            }
            for n in numbers
        ],
    )
    db.session.commit()


def _admin_urls(client_id: int) -> list[str]:
    return [
        "/admin/clients",
        "/admin/clients?sort=company&dir=asc",
        "/admin/clients?sort=name&dir=desc&q=ООО",
        "/admin/billing/invoices",
        "/admin/billing/invoices?status=paid",
        "/admin/billing/invoices/overdue",
        "/admin/billing/payments",
        "/admin/billing/bank/unmatched?status=all",
        "/admin/orders",
        "/admin/orders/pending",
        "/admin/services",
        "/admin/services?status=pending&q=Тариф",
        "/admin/services/due",
        "/admin/provisioning",
        "/admin/support",
        "/admin/support?queue=all",
        "/admin/support?queue=mine",
        "/admin/support/canned",
        "/admin/catalog/",
        "/admin/catalog/addons",
        "/admin/catalog/promos",
        "/admin/outbox",
        "/admin/audit",
        "/admin/jobs",
        "/admin/staff",
        "/admin/work/notes",
        "/admin/work/todos",
        "/admin/work/todos?show=all",
        f"/admin/clients/{client_id}/invoices",
        f"/admin/clients/{client_id}/transactions",
        f"/admin/clients/{client_id}/services",
        f"/admin/clients/{client_id}/log",
        f"/admin/clients/{client_id}/notes",
        f"/admin/clients/{client_id}/contacts",
        f"/admin/clients/{client_id}/tickets",
        f"/admin/clients/{client_id}/emails",
    ]


CLIENT_URLS = [
    "/invoices",
    "/documents",
    "/transactions",
    "/orders",
    "/services",
    "/tickets",
    "/contacts",
]


def test_every_list_costs_the_same_queries_at_two_sizes(
    staff_web, client_web, staff_member, client_account, clock
) -> None:
    _seed(0, 4, client_account.id, staff_member.id, clock.now().date())
    admin_small = _count(staff_web, _admin_urls(client_account.id))
    client_small = _count(client_web, CLIENT_URLS)

    _seed(4, 400, client_account.id, staff_member.id, clock.now().date())
    admin_large = _count(staff_web, _admin_urls(client_account.id))
    client_large = _count(client_web, CLIENT_URLS)
    assert admin_large == admin_small
    assert client_large == client_small
    # and each of them is a page of its 400 rows, not all of them (the two short ones aside)
    unpaged = {"/admin/staff", "/admin/provisioning"}
    for web, url in [(staff_web, url) for url in admin_large if url not in unpaged] + [
        (client_web, url) for url in client_large
    ]:
        assert 'rel="next"' in web.get(url).get_data(as_text=True), url

    page = client_web.get("/invoices").get_data(as_text=True)
    assert page.count('href="/invoices/') <= 2 * 50  # a page (number and PDF links), not 404
    assert 'rel="last"' in page


def test_a_deep_page_costs_what_the_first_does(
    staff_web, client_web, staff_member, client_account
) -> None:
    _seed(0, 300, client_account.id, staff_member.id)
    for web, url in (
        (staff_web, "/admin/billing/invoices"),
        (staff_web, "/admin/clients?sort=company"),
        (staff_web, "/admin/audit"),
        (staff_web, "/admin/services"),  # a date with NULLs last: a keyset on nulls_last
        (staff_web, "/admin/support"),  # the awaiting queue, by response due, none last
        (staff_web, "/admin/work/todos"),
        (staff_web, f"/admin/clients/{client_account.id}/notes"),  # two keys: important, time
        (staff_web, f"/admin/clients/{client_account.id}/contacts"),
        (staff_web, "/admin/catalog/promos"),
        (staff_web, "/admin/catalog/"),  # numbered pages (a short list in its own order)
        (client_web, "/invoices"),
        (client_web, "/documents"),
        (client_web, "/contacts"),
    ):
        first = _count(web, [url])[url]
        last_url = url + ("&" if "?" in url else "?") + "last=1"
        html = web.get(last_url).get_data(as_text=True)
        assert _count(web, [last_url])[last_url] == first
        assert 'rel="prev"' in html and 'rel="next"' not in html
        # a cursor deep in the list: the previous page of the last one
        prev = html.split('rel="prev" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert _count(web, [prev])[prev] == first
