"""Utilities → Provisioning queue, the service page's commands and the dashboard warning:
failed commands first and highlighted, Retry and Mark done with CSRF and the right permission."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts.models import Role
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice
from portal.orders import orders, provisioning
from portal.orders.models import Service
from portal.orders.models.provisioning import ProvisioningAction, ProvisioningTask, TaskStatus
from portal.orders.orders import CartItem
from portal.platform import demo
from portal.testing.factories import make_client, make_staff

TODAY = date(2026, 11, 2)
NOT_INSTALLED = "module testbox is not installed or not enabled"


def _paid_service(products: dict[str, Any], clock, company: str) -> Service:
    product = products[demo.USERS_PRODUCT]
    client = make_client(clock, company=company)
    order = orders.place_order(
        client, [CartItem(product.id, "semi_annual", {product.options[0].id: 2})], today=TODAY
    )
    orders.accept_order(order, today=TODAY)
    invoice = db.session.get(Invoice, order.invoice_id)
    payments.record_payment(
        client,
        amount=invoice.total,
        method="bank",
        reference=f"п/п {order.id}",
        payment_date=TODAY,
        invoices=[invoice],
    )
    return db.session.get(Service, order.items[0].service_id)


@pytest.fixture
def queue_state(app: Flask, clock, staff_member) -> tuple[ProvisioningTask, ProvisioningTask]:
    """A command done by hand (ООО «Готово») and one failed: the module is not installed."""
    products = demo.load_demo_catalogue()
    products[demo.USERS_PRODUCT].module = "testbox"
    db.session.commit()
    done_service = _paid_service(products, clock, "ООО «Готово»")
    done = db.session.scalar(
        select(ProvisioningTask).where(ProvisioningTask.service_id == done_service.id)
    )
    provisioning.mark_done(done, staff_member)
    failed_service = _paid_service(products, clock, "ООО «Сбой»")
    for _ in range(provisioning.MAX_ATTEMPTS):
        provisioning.run_due(clock.now())
        clock.advance(provisioning.BACKOFF_MAX)
    failed = db.session.scalar(
        select(ProvisioningTask).where(ProvisioningTask.service_id == failed_service.id)
    )
    assert failed.status is TaskStatus.FAILED and failed.last_error == NOT_INSTALLED
    return done, failed


def _rows(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-task="(\d+)" data-status="(\w+)"', page)


def test_the_queue_shows_failed_commands_first_and_highlighted(staff_web, queue_state) -> None:
    done, failed = queue_state
    page = staff_web.get("/admin/provisioning").get_data(as_text=True)
    assert _rows(page) == [(str(failed.id), "failed"), (str(done.id), "done")]
    row = re.search(rf'<tr data-task="{failed.id}".*?</tr>', page, re.S).group(0)
    assert "table-danger" in row and NOT_INSTALLED in row and "ООО «Сбой»" in row
    assert "Create" in row and "<code>testbox</code>" in row and ">Retry<" in row
    assert 'id="provisioning-failed"' in page

    only_done = staff_web.get("/admin/provisioning?status=done").get_data(as_text=True)
    assert _rows(only_done) == [(str(done.id), "done")]
    assert "staff #" not in done.finished_by and done.finished_by in only_done
    junk = staff_web.get("/admin/provisioning?status=nonsense&page=x")
    assert junk.status_code == 200 and len(_rows(junk.get_data(as_text=True))) == 2


def test_dashboard_menu_and_service_page_show_the_failure(staff_web, queue_state) -> None:
    _, failed = queue_state
    dashboard = staff_web.get("/admin/").get_data(as_text=True)
    assert 'id="failed-provisioning"' in dashboard and "1 provisioning commands failed" in dashboard
    assert "Provisioning queue" in staff_web.get("/admin/section/utilities").get_data(as_text=True)

    page = staff_web.get(f"/admin/services/{failed.service_id}").get_data(as_text=True)
    status = re.search(r'id="provisioning-status">(.*?)</dd>', page, re.S).group(1)
    assert "Provisioning failed" in status and NOT_INSTALLED in status
    assert _rows(page) == [(str(failed.id), "failed")]


def test_staff_retry_and_mark_done_with_csrf(staff_web, queue_state, clock) -> None:
    _, failed = queue_state
    url = f"/admin/provisioning/{failed.id}/retry"
    assert staff_web.post(url).status_code == 400  # no CSRF token
    db.session.refresh(failed)
    assert failed.status is TaskStatus.FAILED

    service_page = f"/admin/services/{failed.service_id}"
    response = staff_web.submit(url, {"next": service_page}, form_page=service_page)
    assert response.status_code == 302 and response.location.endswith(service_page)
    db.session.refresh(failed)
    assert (failed.status, failed.attempts) == (TaskStatus.QUEUED, 0)
    assert failed.next_attempt_at == clock.now()

    response = staff_web.submit(
        f"/admin/provisioning/{failed.id}/done",
        {"next": "//evil.example.com/"},
        form_page="/admin/provisioning",
    )
    assert response.status_code == 302 and response.location.endswith("/admin/provisioning")
    db.session.expire_all()
    service = db.session.get(Service, failed.service_id)
    assert failed.status is TaskStatus.DONE and service.provisioning_status == ""
    again = staff_web.submit(url, {}, form_page="/admin/provisioning", follow_redirects=True)
    assert "Only a failed or waiting command can be changed." in again.get_data(as_text=True)
    assert (
        staff_web.submit("/admin/provisioning/999999/retry", {}, "/admin/provisioning").status_code
        == 404
    )


def test_viewing_needs_clients_view_and_acting_needs_orders_manage(
    app: Flask, clock, queue_state
) -> None:
    _, failed = queue_state
    accountant = make_staff(clock, role="accountant")
    web = app.test_client()
    web.sign_in_staff(accountant.email)
    page = web.get("/admin/provisioning")
    assert page.status_code == 200 and ">Retry<" not in page.get_data(as_text=True)
    token_page = "/admin/provisioning"
    assert web.submit(f"/admin/provisioning/{failed.id}/retry", {}, token_page).status_code == 403
    assert web.submit(f"/admin/provisioning/{failed.id}/done", {}, token_page).status_code == 403
    db.session.refresh(failed)
    assert failed.status is TaskStatus.FAILED

    sales = make_staff(clock, role="sales_manager")
    web = app.test_client()
    web.sign_in_staff(sales.email)
    assert web.submit(f"/admin/provisioning/{failed.id}/retry", {}, token_page).status_code == 302

    nobody = Role(name="Стажёр", permission_names=[])
    db.session.add(nobody)
    db.session.commit()
    trainee = make_staff(clock, role=nobody)
    web = app.test_client()
    web.sign_in_staff(trainee.email)
    assert web.get("/admin/provisioning").status_code == 403
    assert "Provisioning queue" not in web.get("/admin/section/utilities").get_data(as_text=True)


def test_commands_queued_by_hand_show_their_labels(staff_web, queue_state) -> None:
    done, _ = queue_state
    service = db.session.get(Service, done.service_id)
    provisioning.queue(service, ProvisioningAction.CHANGE_PACKAGE)
    db.session.commit()
    page = staff_web.get("/admin/provisioning?status=queued").get_data(as_text=True)
    assert "Change package" in page and len(_rows(page)) == 1
