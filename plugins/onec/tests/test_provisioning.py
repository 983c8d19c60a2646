"""The ``onec`` provisioner against a real local program, a real HTTP server on loopback and
staff-only tickets: the core's commands (create, suspend, unsuspend, terminate, change package)
and the plugin's own (create a base, add and remove a user) reach the cloud with the right
values, and a base's state follows what the cloud confirmed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from portal_onec import demo
from portal_onec.models import BaseState, OnecRequest
from portal_onec.organisations import (
    add_base,
    delete_base,
    grant_access,
    primary_organisation,
    revoke_access,
)
from portal_onec.provisioner import Onec
from sqlalchemy import select

from portal.plugin_api import (
    Client,
    Invoice,
    ProvisioningAction,
    Service,
    Ticket,
    record_payment,
    session,
)
from portal.testing import actions
from portal.testing.actions import TaskStatus
from portal.testing.factories import make_department, make_staff

BOUGHT = date(2026, 11, 2)  # the test clock's today
DEPARTMENT = "Облако 1С"


def pay(invoice: Invoice, reference: str) -> None:
    record_payment(
        session().get(Client, invoice.client_id),
        amount=invoice.balance,
        method="bank",
        reference=reference,
        payment_date=BOUGHT,
        invoices=[invoice],
    )


def tariff_of(customer: Client, catalogue, name: str = demo.TARIFF_BUSINESS) -> Service:
    service, invoice = actions.order_and_accept(customer, catalogue[name], today=BOUGHT)
    pay(invoice, f"п/п {service.id}")
    return service


def run(clock) -> actions.RunReport:
    return actions.run_provisioning(clock.now())


def last_task() -> actions.ProvisioningTask:
    return actions.provisioning_tasks()[-1]


def test_the_provisioner_is_registered_under_the_module_name(app) -> None:
    assert isinstance(actions.provisioner("onec"), Onec)


# --- command backend ------------------------------------------------------------------------------


def test_command_backend_runs_the_program_with_each_command(
    catalogue, customer, script, clock, tmp_path: Path
) -> None:
    actions.save_plugin_settings(
        "onec", {"backend": "command", "command": f"{script.path} --cloud=test", "timeout": 10}
    )
    tariff = tariff_of(customer, catalogue)
    assert run(clock).done == 1
    assert script.calls() == [
        f"--cloud=test set_limits --bases=5 --service_id={tariff.id} --sessions=15"
    ]

    organisation = primary_organisation(customer.id)
    base = add_base(
        organisation, name="Бухгалтерия", configuration="Бухгалтерия предприятия", service=tariff
    )
    assert base.base_state is BaseState.CREATING
    assert (last_task().action, last_task().payload["onec_command"]) == (
        ProvisioningAction.CREATE,
        "create_base",
    )
    assert run(clock).done == 1
    session().refresh(base)
    assert base.base_state is BaseState.ACTIVE
    assert script.calls()[-1] == (
        f"--cloud=test create_base --base=Бухгалтерия --base_id={base.id} "
        "--configuration=Бухгалтерия предприятия --inn=7701234560 --kpp=770101001 "
        f"--organisation=ООО «Ромашка» --service_id={tariff.id}"
    )

    marker = tmp_path / "pwned"
    sneaky = f"a$(touch${{IFS}}{marker})"  # a shell would run it; an argument never does
    grant_access(base, login="ivanova", full_name="Иванова Мария")
    grant_access(base, login=sneaky)
    assert run(clock).done == 2
    assert [c.split()[1] for c in script.calls()[-2:]] == ["add_user", "add_user"]
    assert "--full_name=Иванова Мария" in script.calls()[-2]
    assert f"--login={sneaky}" in script.calls()[-1] and not marker.exists()

    ivanova = next(u for u in base.users if u.login == "ivanova")
    revoke_access(base, ivanova)
    assert last_task().action is ProvisioningAction.TERMINATE
    assert run(clock).done == 1
    assert script.calls()[-1].split()[1] == "remove_user"
    assert "--login=ivanova" in script.calls()[-1]
    assert [u.login for u in base.users] == [sneaky]


def test_command_backend_failure_keeps_the_programs_message_and_retries(
    catalogue, customer, script, clock
) -> None:
    actions.save_plugin_settings("onec", {"backend": "command", "command": str(script.path)})
    tariff = tariff_of(customer, catalogue)
    base = add_base(
        primary_organisation(customer.id),
        name="Зарплата",
        configuration="Зарплата и управление персоналом",
        service=tariff,
    )
    script.fail("delete_base")
    run(clock)
    delete_base(base)
    assert base.base_state is BaseState.DELETED  # for the client at once
    report = run(clock)
    assert report.done == 0
    task = last_task()
    assert task.status is not TaskStatus.DONE and task.attempts == 1
    assert "exited with 4" in task.last_error or "завершилась с кодом 4" in task.last_error
    assert "onecctl: delete_base refused" in task.last_error
    script.fail()
    clock.advance(timedelta(hours=2))
    assert run(clock).done == 1
    assert script.calls()[-1].startswith("delete_base ")


def test_suspend_unsuspend_terminate_reach_every_base_of_the_service(
    catalogue, customer, script, clock
) -> None:
    actions.save_plugin_settings("onec", {"backend": "command", "command": str(script.path)})
    tariff = tariff_of(customer, catalogue)
    organisation = primary_organisation(customer.id)
    bases = [
        add_base(organisation, name=n, configuration="Розница", service=tariff)
        for n in ("Магазин 1", "Магазин 2")
    ]
    run(clock)
    delete_base(bases[1])
    run(clock)
    actions.set_service_status(tariff, "suspended")
    assert run(clock).done == 1
    assert script.calls()[-1] == f"block_base --base=Магазин 1 --base_id={bases[0].id} " + (
        f"--configuration=Розница --inn=7701234560 --kpp=770101001 "
        f"--organisation=ООО «Ромашка» --service_id={tariff.id}"
    )
    session().refresh(bases[0])
    assert bases[0].base_state is BaseState.BLOCKED
    actions.set_service_status(tariff, "active")
    assert run(clock).done == 1
    assert script.calls()[-1].startswith("unblock_base --base=Магазин 1 ")
    session().refresh(bases[0])
    assert bases[0].base_state is BaseState.ACTIVE
    actions.set_service_status(tariff, "terminated")
    assert run(clock).done == 1
    assert script.calls()[-1].startswith("delete_base --base=Магазин 1 ")
    assert len([c for c in script.calls() if c.startswith("delete_base")]) == 2  # one each
    session().refresh(bases[0])
    assert bases[0].base_state is BaseState.DELETED


# --- http backend ---------------------------------------------------------------------------------


def test_http_backend_posts_json_with_the_token(catalogue, customer, cloud, clock) -> None:
    actions.save_plugin_settings(
        "onec", {"backend": "http", "url": cloud.url, "token": "s3cret", "timeout": 5}
    )
    tariff = tariff_of(customer, catalogue)
    assert run(clock).done == 1
    headers, body = cloud.received[0]
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"].startswith("application/json")
    assert body == {
        "command": "set_limits",
        "service_id": tariff.id,
        "task_id": actions.provisioning_tasks()[0].id,
        "sessions": 15,
        "bases": 5,
    }
    base = add_base(
        primary_organisation(customer.id),
        name="Торговля",
        configuration="Управление торговлей",
        service=tariff,
    )
    grant_access(base, login="smirnov", full_name="Смирнов А. П.")
    assert run(clock).done == 2
    assert cloud.commands() == ["set_limits", "create_base", "add_user"]
    assert cloud.received[1][1]["configuration"] == "Управление торговлей"
    assert cloud.received[2][1]["login"] == "smirnov"
    assert cloud.received[2][1]["base_id"] == base.id

    cloud.status = 409
    actions.set_service_status(tariff, "suspended")
    assert run(clock).done == 0
    assert "409" in last_task().last_error and "base is locked" in last_task().last_error
    session().refresh(base)
    assert base.base_state is BaseState.ACTIVE  # not blocked until the cloud says so
    cloud.status = 200
    clock.advance(timedelta(hours=2))
    assert run(clock).done == 1
    assert cloud.commands()[-1] == "block_base"
    session().refresh(base)
    assert base.base_state is BaseState.BLOCKED


def test_a_tariff_change_sends_the_new_limits_once_paid(catalogue, customer, cloud, clock) -> None:
    actions.save_plugin_settings("onec", {"backend": "http", "url": cloud.url, "token": "t"})
    tariff = tariff_of(customer, catalogue, demo.TARIFF_START)
    run(clock)
    assert (cloud.received[-1][1]["sessions"], cloud.received[-1][1]["bases"]) == (5, 2)
    invoice = actions.change_package(tariff, catalogue[demo.TARIFF_BUSINESS], today=BOUGHT)
    run(clock)
    assert len(cloud.received) == 1  # nothing until the change is paid
    pay(invoice, "п/п смена тарифа")
    assert last_task().action is ProvisioningAction.CHANGE_PACKAGE
    assert run(clock).done == 1
    assert cloud.received[-1][1]["command"] == "set_limits"
    assert (cloud.received[-1][1]["sessions"], cloud.received[-1][1]["bases"]) == (15, 5)


# --- ticket backend -------------------------------------------------------------------------------


def test_ticket_backend_waits_for_staff_to_close_one_staff_only_ticket(
    catalogue, customer, clock
) -> None:
    make_department(DEPARTMENT, "cloud@example.com")
    actions.save_plugin_settings("onec", {"backend": "ticket", "department": DEPARTMENT})
    tariff = tariff_of(customer, catalogue)
    staff = make_staff(clock)
    assert run(clock).waiting == 1  # set_limits: a ticket for the admins
    [limits] = session().scalars(select(Ticket)).all()
    assert limits.staff_only and "15" in limits.messages[0].body
    actions.close_ticket(limits, staff)
    clock.advance(timedelta(minutes=11))
    assert run(clock).done == 1

    base = add_base(
        primary_organisation(customer.id),
        name="Бухгалтерия",
        configuration="Бухгалтерия предприятия",
        service=tariff,
    )
    assert run(clock).waiting == 1
    create = session().scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert create.staff_only and "Бухгалтерия" in create.subject
    assert "7701234560" in create.messages[0].body
    clock.advance(timedelta(minutes=11))
    assert run(clock).waiting == 1  # rechecked: still open, no second ticket
    assert session().scalar(select(OnecRequest.id).where(OnecRequest.ticket_id == create.id))
    assert len(session().scalars(select(Ticket)).all()) == 2
    session().refresh(base)
    assert base.base_state is BaseState.CREATING
    actions.close_ticket(create, staff)
    clock.advance(timedelta(minutes=11))
    assert run(clock).done == 1
    session().refresh(base)
    assert base.base_state is BaseState.ACTIVE


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"backend": "ticket", "department": "Нет такого"}, "department"),
        ({"backend": "http", "url": ""}, "URL"),
    ],
)
def test_test_connection_says_what_is_missing(app, values, message) -> None:
    from portal.plugin_api import ProvisioningError

    with pytest.raises(ProvisioningError, match=message):
        Onec().test_connection(values)
