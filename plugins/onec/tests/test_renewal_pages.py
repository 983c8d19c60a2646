"""The admin pages of the renewal queue and of inactive clients, in Russian, as staff use them:
filters, the outcome form (a refusal without a comment is refused with a Russian message),
permissions, the dashboard counter and the reports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from csv import reader
from datetime import date

from helpers import licence, set_day
from portal_onec import renewals
from portal_onec.renewal_models import Renewal
from sqlalchemy import event, select

from portal.plugin_api import session
from portal.testing.factories import make_staff


def russian(app, staff):
    web = app.test_client()
    staff.language = "ru"
    session().commit()
    web.sign_in_staff(staff.email)
    return web


LIST = "/admin/onec/inactive"


def inactive_counter(page: str) -> str | None:
    """The number the dashboard shows for inactive clients without an outcome (a link)."""
    found = re.search(
        r'data-counter="onec_inactive">\s*<a href="/admin/onec/inactive">(\d+)</a>', page
    )
    return found.group(1) if found else None


def queued(clock, **kwargs) -> Renewal:
    service = licence(clock, **kwargs)
    set_day(clock, date(2026, 2, 1))
    renewals.run_daily(date(2026, 2, 1))
    return session().scalar(select(Renewal).where(Renewal.service_id == service.id))


def test_the_queue_in_russian_with_its_filters(app, clock) -> None:
    manager = make_staff(
        clock, role="sales_manager", email="manager@example.com", first_name="Ольга"
    )
    other = make_staff(clock, role="sales_manager", email="other@example.com", first_name="Пётр")
    mine = queued(clock, company="ООО «Ромашка»", manager=manager)
    theirs = queued(clock, company="ООО «Лютик»", manager=other)
    renewals.record_outcome(theirs, "invoice_issued")
    web = russian(app, manager)

    page = web.get("/admin/onec/renewals").get_data(as_text=True)
    assert "Очередь продлений" in page and "Окончание периода" in page
    assert f'data-renewal="{mine.id}"' in page and f'data-renewal="{theirs.id}"' in page
    assert "Выставлен счёт" in page and "В очереди" in page
    for label in ("Неверные контактные данные", "Не используют", "Ушли от нас", "Нулевка"):
        assert label in page  # the outcome filter
    assert "Расторгнутые" in page and "Непродлённые" in page  # the state filter

    only_mine = web.get("/admin/onec/renewals?manager=me").get_data(as_text=True)
    assert (
        f'data-renewal="{mine.id}"' in only_mine and f'data-renewal="{theirs.id}"' not in only_mine
    )
    by_outcome = web.get("/admin/onec/renewals?outcome=invoice_issued").get_data(as_text=True)
    assert (
        f'data-renewal="{theirs.id}"' in by_outcome
        and f'data-renewal="{mine.id}"' not in by_outcome
    )
    by_id = web.get(f"/admin/onec/renewals?manager={other.id}").get_data(as_text=True)
    assert f'data-renewal="{theirs.id}"' in by_id and f'data-renewal="{mine.id}"' not in by_id
    none = web.get("/admin/onec/renewals?state=renewed&manager=x&page=99999999999").get_data(
        as_text=True
    )
    assert "Продлевать нечего." in none
    menu = web.get("/admin/section/clients").get_data(as_text=True)
    assert "Продление (1С)" in menu and "Неактивные клиенты (1С)" in menu


def test_the_outcome_form_refuses_a_refusal_without_a_comment(app, clock) -> None:
    manager = make_staff(clock, role="sales_manager", email="manager@example.com")
    item = queued(clock, manager=manager)
    web = russian(app, manager)
    url = f"/admin/onec/renewals/{item.id}"

    refused = web.submit(url, {"outcome": "left", "comment": " "})
    assert refused.status_code == 200
    assert "Для отказа нужен комментарий" in refused.get_data(as_text=True)
    session().refresh(item)
    assert item.state == "open" and item.outcome is None

    done = web.submit(url, {"outcome": "left", "comment": "Закрыли фирму", "next_contact": ""})
    assert done.status_code == 302
    session().refresh(item)
    assert (item.state, item.outcome, item.comment) == ("terminated", "left", "Закрыли фирму")
    assert item.service.terminate_at_period_end is True
    page = web.get(url).get_data(as_text=True)
    assert "Расторгнутые" in page and "Ушли от нас" in page and "Закрыли фирму" in page
    assert 'data-outcome="left"' in page  # the client's history

    past = web.submit(
        url, {"outcome": "invoice_issued", "comment": "", "next_contact": "2026-01-01"}
    )
    assert "Дата следующего контакта не может быть в прошлом." in past.get_data(as_text=True)


def test_staff_without_the_permission_get_403(app, clock) -> None:
    item = queued(clock)
    accountant = make_staff(clock, role="accountant", email="acc@example.com")  # view, not edit
    web = russian(app, accountant)
    assert web.get("/admin/onec/renewals").status_code == 200
    page = web.get(f"/admin/onec/renewals/{item.id}").get_data(as_text=True)
    assert 'id="outcome-form"' not in page
    token_page = web.get(f"/admin/onec/renewals/{item.id}")
    assert token_page.status_code == 200
    assert (
        web.submit(f"/admin/onec/renewals/{item.id}", {"outcome": "invoice_issued"}).status_code
        == 403
    )
    assert (
        web.submit(
            f"/admin/onec/renewals/{item.id}/manager",
            {"manager": ""},
            form_page="/admin/onec/renewals",
        ).status_code
        == 403
    )

    nobody = make_staff(clock, role=None, email="nobody@example.com")
    web = russian(app, nobody)
    for url in ("/admin/onec/renewals", f"/admin/onec/renewals/{item.id}", "/admin/onec/inactive"):
        assert web.get(url).status_code == 403, url
    assert web.get("/admin/reports/onec_renewal_funnel").status_code == 403
    assert web.get("/admin/onec/renewals/99999").status_code == 403  # the permission first


def test_a_manager_is_assigned(app, clock, staff_member) -> None:
    item = queued(clock)
    other = make_staff(clock, role="sales_manager", email="other@example.com")
    web = russian(app, staff_member)
    url = f"/admin/onec/renewals/{item.id}/manager"
    done = web.submit(url, {"manager": str(other.id)}, form_page=f"/admin/onec/renewals/{item.id}")
    assert done.status_code == 302
    session().refresh(item)
    assert item.manager_id == other.id
    web.submit(url, {"manager": "12345"}, form_page=f"/admin/onec/renewals/{item.id}")
    session().refresh(item)
    assert item.manager_id == other.id  # not a staff member: refused


def test_inactive_list_counter_and_outcome(app, clock, staff_member) -> None:
    unused = licence(clock, company="ООО «Спящая»")
    set_day(clock, date(2025, 6, 1))
    web = russian(app, staff_member)
    dashboard = web.get("/admin/").get_data(as_text=True)
    assert "Неактивные клиенты 1С без результата" in dashboard
    assert inactive_counter(dashboard) == "1"

    page = web.get("/admin/onec/inactive").get_data(as_text=True)
    assert f'data-service="{unused.id}"' in page and "Никогда" in page
    refused = web.submit(
        f"/admin/onec/inactive/{unused.id}", {"outcome": "not_used", "comment": ""}, form_page=LIST
    )
    assert refused.status_code == 302
    page = web.get("/admin/onec/inactive").get_data(as_text=True)
    assert "Для отказа нужен комментарий" in page and f'data-service="{unused.id}"' in page

    web.submit(
        f"/admin/onec/inactive/{unused.id}",
        {"outcome": "not_used", "comment": "В отпуске"},
        form_page=LIST,
    )
    page = web.get("/admin/onec/inactive").get_data(as_text=True)
    assert f'data-service="{unused.id}"' not in page and "Без результата: 0" in page
    everything = web.get("/admin/onec/inactive?show=all").get_data(as_text=True)
    assert f'data-service="{unused.id}"' in everything and "В отпуске" in everything
    assert inactive_counter(web.get("/admin/").get_data(as_text=True)) == "0"


def test_the_funnel_and_inactive_reports_with_csv(app, clock, staff_member) -> None:
    from portal.plugin_api import Invoice, record_payment
    from portal.testing import actions

    manager = make_staff(
        clock, role="sales_manager", email="manager@example.com", first_name="Ольга", last_name=""
    )
    kept = queued(clock, company="ООО «Плательщик»", manager=manager)
    lost = queued(clock, company="ООО «Ушедший»", manager=manager)
    renewals.record_outcome(lost, "left", comment="Ушли к конкурентам")
    set_day(clock, date(2026, 3, 25))
    actions.run_billing(date(2026, 3, 25))
    renewals.run_daily(date(2026, 3, 25))
    session().refresh(kept)
    invoice = session().get(Invoice, kept.invoice_id)
    record_payment(
        kept.client, amount=invoice.total, method="bank", reference="п/п 5", invoices=[invoice]
    )

    web = russian(app, staff_member)
    page = web.get("/admin/reports/onec_renewal_funnel").get_data(as_text=True)
    assert "Воронка продлений 1С" in page and "<svg" in page
    csv = web.get("/admin/reports/onec_renewal_funnel?format=csv").get_data().decode("utf-8-sig")
    rows = list(reader(csv.splitlines()))
    assert rows[0] == [
        "Месяц", "Менеджер", "Валюта", "Поставлено в очередь", "С результатом",
        "Выставлен счёт", "Продлено", "Потеряно", "Продлено, %", "Сохранённая выручка",
    ]  # fmt: skip
    assert rows[1:] == [["2026-03", "Ольга", "RUB", "2", "1", "0", "1", "1", "50.00", "29280.00"]]
    filtered = web.get(f"/admin/reports/onec_renewal_funnel?manager={staff_member.id}&format=csv")
    assert filtered.get_data().decode("utf-8-sig").splitlines()[1:] == []

    inactive = web.get("/admin/reports/onec_inactive?format=csv").get_data().decode("utf-8-sig")
    assert "ООО «Плательщик»" in inactive and "Без результата" in inactive


def test_the_demo_has_a_licence_in_the_queue_and_an_inactive_one(app, clock) -> None:
    from portal_onec import demo, inactive

    from portal.plugin_api import Client

    today = date(2026, 11, 2)
    set_day(clock, today)
    demo.load(today)
    demo.load(today)  # idempotent
    client = session().scalar(select(Client).where(Client.email == demo.EMAIL))
    queue = session().scalars(renewals.queue_query(as_of=today)).all()
    assert [(i.client_id, i.service.product.name) for i in queue] == [(client.id, demo.ITS)]
    idle = inactive.inactive_services(today)
    assert [(i.service.product.name, i.idle_days, i.outcome) for i in idle] == [
        (demo.REPORTING, 45, None)
    ]


def test_the_1c_tab_shows_the_renewals_and_the_history_of_outcomes(
    app, clock, staff_member
) -> None:
    item = queued(clock)
    renewals.record_outcome(item, "invoice_issued", comment="Счёт отправлен бухгалтеру")
    web = russian(app, staff_member)
    tab = web.get(f"/admin/clients/{item.client_id}/tab/onec").get_data(as_text=True)
    assert 'id="onec-renewals"' in tab and f"/admin/onec/renewals/{item.id}" in tab
    assert "История результатов" in tab and "Счёт отправлен бухгалтеру" in tab
    assert "Выставлен счёт" in tab


@contextmanager
def counted() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = session().get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_the_lists_cost_the_same_queries_with_more_rows(app, clock, staff_member) -> None:
    manager = make_staff(clock, role="sales_manager", email="manager@example.com")

    def cost() -> dict[str, int]:
        set_day(clock, date(2026, 2, 1))
        renewals.run_daily(date(2026, 2, 1))
        web = russian(app, staff_member)
        found = {}
        for url in ("/admin/onec/renewals", "/admin/onec/inactive", "/admin/"):
            with counted() as statements:
                assert web.get(url).status_code == 200
            # reads only: "staff online" is written at most every few minutes
            found[url] = sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))
        return found

    for n in range(2):
        licence(clock, company=f"ООО «Первая {n}»", manager=manager)
    few = cost()
    for n in range(4):
        licence(clock, company=f"ООО «Вторая {n}»", manager=manager)
    assert cost() == few
