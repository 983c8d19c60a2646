"""The ``telephony`` provisioner through the portal's shared backends, against a real program
(a script that logs its arguments), a real HTTP server on loopback and real staff-only tickets:
extensions for the seats, numbers routed and removed, blocking by the rating side while the
core service stays active, failures shown on the task."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from portal_telephony import numbers
from portal_telephony.models import TelephonyRequest
from portal_telephony.provisioning import block_service, is_blocked, unblock_service
from sqlalchemy import select

from portal.plugin_api import (
    ProvisioningAction,
    ProvisioningError,
    Ticket,
    add_demo_service,
    queue_provisioning,
    record_payment,
    session,
)
from portal.testing import actions
from portal.testing.factories import make_department, make_staff

DEPARTMENT = "Телефония"


def run(clock):
    return actions.run_provisioning(clock.now())


def _create(plan) -> None:
    queue_provisioning(plan, ProvisioningAction.CREATE)
    session().commit()


def test_command_backend_creates_extensions_routes_numbers_and_blocks(
    app, clock, plan, pool, pbx
) -> None:
    actions.save_plugin_settings("telephony", {"backend": "command", "command": str(pbx.path)})
    _create(plan)
    assert run(clock).done == 1
    sid = plan.id
    assert pbx.calls() == [
        f"create_extension --extension={e} --service_id={sid}" for e in range(101, 109)
    ]

    numbers.assign(pool["74957002233"], plan, actor="staff", extension="101")
    assert run(clock).done == 1
    assert (
        pbx.calls()[-1] == f"assign_number --extension=101 --number=74957002233 --service_id={sid}"
    )

    assert block_service(plan, "balance") is True
    assert block_service(plan, "balance") is False  # already blocked: nothing queued
    session().commit()
    assert run(clock).done == 1
    assert pbx.calls()[-1] == f"block --reason=balance --service_id={sid}"
    session().refresh(plan)
    assert is_blocked(plan) and plan.status.value == "active"

    assert unblock_service(plan) is True
    session().commit()
    assert run(clock).done == 1
    assert pbx.calls()[-1] == f"unblock --service_id={sid}"
    assert not is_blocked(plan)

    numbers.release(pool["74957002233"], actor="staff")
    assert run(clock).done == 1
    assert pbx.calls()[-1] == f"release_number --number=74957002233 --service_id={sid}"


def test_seats_changed_create_or_delete_extensions(app, clock, plan, pbx, customer) -> None:
    """The core's seat change (prorated invoice, paid) queues change_package: the extensions
    added; fewer seats delete the last ones."""
    actions.save_plugin_settings("telephony", {"backend": "command", "command": str(pbx.path)})
    option = plan.product.options[0].id
    invoice = actions.change_options(plan, {option: 4}, today=date(2026, 3, 2))
    assert invoice is not None
    record_payment(
        customer, amount=invoice.total, method="bank", reference="seats-1", invoices=[invoice]
    )
    run(clock)
    assert pbx.calls() == [
        f"create_extension --extension={e} --service_id={plan.id}" for e in (109, 110)
    ]
    actions.change_options(plan, {option: 3}, today=date(2026, 3, 3))  # credit: at once
    run(clock)
    assert pbx.calls()[-1] == f"delete_extension --extension=110 --service_id={plan.id}"


def test_a_refusing_pbx_fails_the_task_with_its_message(app, clock, plan, pbx) -> None:
    actions.save_plugin_settings("telephony", {"backend": "command", "command": str(pbx.path)})
    pbx.refuse("create_extension")
    _create(plan)
    run(clock)
    task = actions.provisioning_tasks()[-1]
    assert "exited with 3" in task.last_error or "кодом 3" in task.last_error
    assert "create_extension refused" in task.last_error


def test_http_backend_posts_each_command_with_the_token(app, clock, plan, pbx_api) -> None:
    actions.save_plugin_settings(
        "telephony", {"backend": "http", "url": pbx_api.url, "token": "s3cret"}
    )
    _create(plan)
    assert run(clock).done == 1
    assert pbx_api.commands() == ["create_extension"] * 8
    token, body = pbx_api.bodies[0]
    assert token == "Bearer s3cret"
    assert (body["extension"], body["service_id"]) == ("101", plan.id)

    pbx_api.status = 409
    block_service(plan, "balance")
    session().commit()
    run(clock)
    task = actions.provisioning_tasks()[-1]
    assert "409" in task.last_error and "extension exists badly" in task.last_error


def test_ticket_backend_opens_one_staff_only_ticket_and_waits(app, clock, plan, pool) -> None:
    make_department(DEPARTMENT, "pbx@example.com")
    actions.save_plugin_settings("telephony", {"backend": "ticket", "department": DEPARTMENT})
    staff = make_staff(clock)
    numbers.assign(pool["74957777777"], plan, actor="staff", extension="102")
    assert run(clock).waiting == 1
    [ticket] = session().scalars(select(Ticket)).all()
    assert ticket.staff_only
    assert "74957777777" in ticket.subject and "102" in ticket.subject  # the client's language
    clock.advance(timedelta(minutes=11))
    assert run(clock).waiting == 1  # still open: no second ticket
    assert len(session().scalars(select(Ticket)).all()) == 1
    assert session().scalar(select(TelephonyRequest.ticket_id)) == ticket.id
    actions.close_ticket(ticket, staff)
    clock.advance(timedelta(minutes=11))
    assert run(clock).done == 1


def test_connection_test_names_the_backend(app) -> None:
    provisioner = actions.provisioner("telephony")
    assert "pbxctl" in provisioner.test_connection({"backend": "command", "command": "pbxctl -v"})
    with pytest.raises(ProvisioningError, match=r"department|отдел"):
        provisioner.test_connection({"backend": "ticket", "department": "Нет такого"})


def test_a_sip_trunk_is_created_at_the_pbx(app, clock, customer, catalogue, pbx) -> None:
    actions.save_plugin_settings("telephony", {"backend": "command", "command": str(pbx.path)})
    trunk = add_demo_service(
        customer, catalogue["SIP-транк"], cycle="monthly", start=date(2026, 3, 1)
    )
    queue_provisioning(trunk, ProvisioningAction.CREATE)
    session().commit()
    assert run(clock).done == 1
    assert pbx.calls() == [f"create_trunk --service_id={trunk.id}"]
