"""No page prints money in a raw format: a crawler walks the Russian admin and client areas of
the demo data (with orders, invoices, a billing run and a payment) and fails on numbers such as
``23736.26``, ``500.0000`` or ``1234.5`` in the visible text. Russian money reads
``23 736,26 ₽`` (portal/web/formatting.py); a dot decimal there is a template that printed a
Decimal as it is."""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.accounts.models import Client
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice, InvoiceStatus
from portal.orders.models import Service
from portal.platform import demo
from portal.testing import actions
from portal.testing.web import WebClient

#: A dot decimal with two or more digits after the dot, or one digit after a number of four
#: digits or more ("1234.5"), standing alone: not part of a date (02.11.2026), a version
#: (0.2.28), an IP address or a longer dotted run.
RAW_NUMBER = re.compile(r"(?<![\w.,:/-])(?:\d+\.\d{2,}|\d{4,}\.\d)(?![\w.,:/-]*\d)")
#: A CSV cell (Excel in a Russian locale) with a dot decimal or zeros past the kopecks.
RAW_CSV_CELL = re.compile(r"-?\d+\.\d+|-?\d+,\d{2}\d*0")
#: GET links that sign out, switch identity or download files the crawler does not read.
SKIPPED = re.compile(
    r"logout|login-as|impersonation|/delete|/static/|\.pdf\b|/pdf\b|/act\b|/download"
)
MAX_PAGES = 200
#: Report CSV is for programs, not for Excel: dot decimals by design (docs/reports.md,
#: "Exports"); a report's page and its XLSX are what people read.
MACHINE_CSV = re.compile(r"^/admin/reports/")


class _Page(HTMLParser):
    """The visible text of a page and the links it offers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def _shape(url: str) -> tuple[str, frozenset[str]]:
    """Pages that differ only in query values (page=2, sort=...) are one page to the crawler."""
    parts = urlsplit(url)
    return parts.path, frozenset(key for key, _value in parse_qsl(parts.query))


def crawl(web: WebClient, start: str, area: str) -> tuple[dict[str, list[str]], int]:
    """GET every same-site link under ``area`` reachable from ``start``; the raw numbers found
    on each page or CSV download, and how many pages were read."""
    found: dict[str, list[str]] = {}
    queue, seen, read = deque([start]), {_shape(start)}, 0
    while queue and read < MAX_PAGES:
        url = queue.popleft()
        response = web.get(url)
        read += 1
        assert response.status_code in (200, 302, 403, 404), (url, response.status_code)
        if response.status_code != 200:
            continue
        if response.mimetype == "text/csv" and MACHINE_CSV.match(urlsplit(url).path):
            continue
        if response.mimetype == "text/csv":
            raw = [
                cell
                for cell in _csv_cells(response.get_data(as_text=True))
                if RAW_CSV_CELL.fullmatch(cell)
            ]
            if raw:
                found[url] = raw
            continue
        if response.mimetype != "text/html":
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        raw = RAW_NUMBER.findall(" ".join(page.text))
        if raw:
            found[url] = raw
        for href in page.links:
            link = urldefrag(href)[0]
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith(area) or SKIPPED.search(link):
                continue
            if _shape(link) not in seen:
                seen.add(_shape(link))
                queue.append(link)
    return found, read


def _csv_cells(text: str) -> list[str]:
    return [
        cell
        for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
        for cell in row
    ]


def _visible_raw_numbers(response: TestResponse) -> list[str]:
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return RAW_NUMBER.findall(" ".join(page.text))


def test_the_pattern_catches_raw_money_and_nothing_else() -> None:
    text = (
        "Итого 23736.26 и 500.0000, ещё 1234.5; верно: 23 736,26 ₽, 02.11.2026, 2026-11-02, "
        "09:30, версия 0.2.28, адрес 127.0.0.1, НДС 22 %, счёт 2026-000123, 1.5 ГБ"
    )
    assert RAW_NUMBER.findall(text) == ["23736.26", "500.0000", "1234.5"]


def _demo_with_money(app: Flask, clock) -> Client:
    """The demo, plus orders with first invoices, a renewal from the billing run, a partial and
    a full payment, and credit left over: every kind of money page has something to show."""
    demo.load_demo_data(clock)
    client = db.session.scalar(select(Client).where(Client.email == demo.DEMO_CLIENT[0]))
    shop = demo.load_demo_catalogue()
    db.session.commit()
    today = clock.now().date()
    disk = shop[demo.DISK_PRODUCT]
    actions.order_and_accept(
        client, disk, cycle="monthly", options={disk.options[0].id: 3}, today=today
    )
    actions.order_and_accept(client, shop[demo.PBX_DEPARTMENT], cycle="monthly", today=today)
    users = db.session.scalar(
        select(Service).where(
            Service.client_id == client.id,
            Service.product_id == shop[demo.USERS_PRODUCT].id,
        )
    )
    actions.change_options(users, {shop[demo.USERS_PRODUCT].options[0].id: 7}, today=today)
    renewal_day = min(
        service.next_due_date
        for service in db.session.scalars(select(Service).where(Service.client_id == client.id))
        if service.cycle == "monthly"
    )
    clock.set(clock.now() + (renewal_day - today))
    assert actions.run_billing(renewal_day).invoices  # the renewal
    unpaid = list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.status == InvoiceStatus.UNPAID)
            .order_by(Invoice.id)
        )
    )
    assert len(unpaid) >= 3  # first invoices, the upgrade, the renewals
    payments.record_payment(
        client,
        amount=unpaid[0].total + Decimal("1234.56"),
        method="bank_transfer",
        reference="п/п 555",
        payment_date=renewal_day,
        invoices=unpaid[:1],
    )
    payments.record_payment(
        client,
        amount=Decimal("500.00"),
        method="bank_transfer",
        reference="п/п 556",
        payment_date=renewal_day,
        invoices=unpaid[1:2],
    )
    return client


@pytest.fixture
def demo_money(app: Flask, clock) -> Client:
    return _demo_with_money(app, clock)


def test_no_raw_money_on_russian_admin_and_client_pages(app: Flask, demo_money: Client) -> None:
    staff = app.test_client()
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    staff.sign_in_staff(demo.DEMO_STAFF[0], demo.DEMO_STAFF[1])
    admin_found, admin_read = crawl(staff, "/admin/", "/admin/")
    # Not linked from the menus, and the page an accountant reads most for money: it and its
    # own links (the CSV).
    statement_url = f"/admin/billing/clients/{demo_money.id}/statement"
    statement, _read = crawl(staff, statement_url, statement_url)

    customer = app.test_client()
    customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    customer.sign_in_client(demo.DEMO_CLIENT[0], demo.DEMO_CLIENT[1])
    client_found, client_read = crawl(customer, "/", "/")

    assert admin_read > 40 and client_read > 8  # the crawl did reach the money pages
    found = {**admin_found, **statement, **client_found}
    assert not found, "raw numbers:\n" + "\n".join(f"{url}: {raw}" for url, raw in found.items())


def test_money_messages_are_formatted_too(app: Flask, demo_money: Client) -> None:
    """What the money actions flash (credit applied, the smallest top-up) reads like money."""
    customer = app.test_client()
    customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    customer.sign_in_client(demo.DEMO_CLIENT[0], demo.DEMO_CLIENT[1])
    unpaid = db.session.scalars(
        select(Invoice)
        .where(Invoice.client_id == demo_money.id, Invoice.status == InvoiceStatus.UNPAID)
        .order_by(Invoice.id)
    ).first()
    url = f"/invoices/{unpaid.id}"
    paid = customer.submit(f"{url}/pay-from-credit", {}, form_page=url, follow_redirects=True)
    assert "1\u00a0234,56\u00a0₽" in paid.get_data(as_text=True)  # the whole credit went
    small = customer.submit("/add-funds", {"amount": "50"})
    assert small.status_code == 400 and "100,00\u00a0₽" in small.get_data(as_text=True)
    assert _visible_raw_numbers(paid) == [] and _visible_raw_numbers(small) == []
