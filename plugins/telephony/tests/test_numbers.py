"""The number pool: import (ranges, bad lines, numbers already there, the CLI), search,
reserve → assign → release → quarantine → free driven by the clock, the history of holders,
and two clients picking the same number: one wins, the other is told."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import set_day
from portal_telephony import numbers
from portal_telephony.models import NumberState, PhoneNumber
from sqlalchemy import update

from portal.plugin_api import session
from portal.testing import actions
from portal.testing.factories import make_client


def _state(number_id: int) -> str:
    number = session().get(PhoneNumber, number_id)
    session().refresh(number)
    return number.state


def test_import_ranges_categories_and_bad_lines(app) -> None:
    result = numbers.import_numbers(
        [
            "# Москва, блок 700",
            "+7 (495) 700-10-00 .. +7 (495) 700-10-09",
            "74957777777",
            "74957002233;74957002233",
            "74957009999..74957009990",
            "12",
            "",
        ],
        actor="test",
    )
    assert (result.added, result.existing) == (12, 0)
    assert len(result.errors) == 2
    again = numbers.import_numbers(["74957001000..74957001004"], actor="test")
    assert (again.added, again.existing) == (0, 5)
    by_number = {n.number: n for n in numbers.search(state=None, limit=None)}
    assert by_number["74957777777"].category == "platinum"
    assert by_number["74957002233"].category == "gold"
    assert by_number["74957001000"].category == "bronze"  # ...000
    assert by_number["74957001005"].category == "ordinary"
    assert all(n.state == "free" for n in by_number.values())


def test_the_cli_imports_numbers(app, tmp_path) -> None:
    source = tmp_path / "numbers.csv"
    source.write_text("first,last\n74958000000,74958000099\n", encoding="utf-8")
    runner = app.test_cli_runner()
    done = runner.invoke(
        args=["telephony", "import-numbers", str(source), "--range", "74958000100"]
    )
    assert done.exit_code == 1  # the CSV's header line is reported
    assert "added 101" in done.output
    assert len(numbers.search(digits="74958", limit=None)) == 101


def test_search_by_digits_and_category(app, pool) -> None:
    assert [n.number for n in numbers.search(digits="777")] == ["74957777777"]
    gold = numbers.search(category="gold")
    assert [n.number for n in gold] == ["74957002233"]
    cheapest_first = numbers.search(limit=None)
    assert cheapest_first[0].category == "ordinary" and cheapest_first[-1].category == "platinum"


def test_reserve_assign_release_quarantine_and_free(app, clock, pool, plan, customer) -> None:
    number_id = pool["74957001005"]
    numbers.reserve(number_id, customer, actor="client")
    assert _state(number_id) == "reserved"
    numbers.assign(number_id, plan, actor="client", extension="101")
    assert _state(number_id) == "assigned"
    assert [n.number for n in numbers.service_numbers(plan)] == ["74957001005"]

    set_day(clock, date(2026, 4, 10))
    numbers.release(number_id, actor="client", client_id=customer.id)
    number = session().get(PhoneNumber, number_id)
    assert (number.state, number.free_on, number.client_id) == (
        "quarantine",
        date(2026, 4, 20),
        None,
    )
    assert numbers.free_due(date(2026, 4, 19)) == {"freed": 0}
    assert numbers.free_due(date(2026, 4, 20)) == {"freed": 1}
    assert numbers.free_due(date(2026, 4, 20)) == {"freed": 0}  # once
    assert _state(number_id) == "free"

    held = [(e.state, e.client_id) for e in reversed(numbers.history(number))]
    assert held == [
        ("free", None),
        ("reserved", customer.id),
        ("assigned", customer.id),
        ("quarantine", None),
        ("free", None),
    ]


def test_the_quarantine_days_are_a_setting_and_the_job_is_scheduled(app, clock, pool, plan) -> None:
    actions.save_plugin_settings("telephony", {"quarantine_days": 3})
    number_id = pool["74957001006"]
    numbers.assign(number_id, plan, actor="staff")
    numbers.release(number_id, actor="staff")
    assert session().get(PhoneNumber, number_id).free_on == date(2026, 3, 5)
    from portal_telephony import numbers_job

    assert numbers_job(date(2026, 3, 5)) == {"freed": 1}


def test_a_reservation_ends_after_its_days(app, clock, pool, customer) -> None:
    set_day(clock, date(2026, 3, 2))
    number_id = pool["74957001007"]
    numbers.reserve(number_id, customer, actor="client")
    assert numbers.free_due(date(2026, 3, 4)) == {"freed": 0}
    assert numbers.free_due(date(2026, 3, 5)) == {"freed": 1}  # 3 days by default


def test_two_clients_cannot_get_the_same_number(app, clock, pool, customer) -> None:
    """The second client read the list while the number was free; the first one's UPDATE
    committed meanwhile (on another connection); the second's conditional UPDATE changes no
    row and the client is told."""
    rival = make_client(clock, email="rival@example.com")
    number_id = pool["74957001008"]
    stale = session().get(PhoneNumber, number_id)
    assert stale.state == "free"
    with session().get_bind().connect() as other:
        other.execute(
            update(PhoneNumber.__table__)
            .where(PhoneNumber.id == number_id, PhoneNumber.state == "free")
            .values(state=NumberState.RESERVED.value, client_id=rival.id)
        )
        other.commit()
    with pytest.raises(numbers.NumberError, match="just been taken"):
        numbers.reserve(number_id, customer, actor="client")
    number = session().get(PhoneNumber, number_id)
    session().refresh(number)
    assert (number.state, number.client_id) == ("reserved", rival.id)


def test_a_number_reserved_for_one_client_cannot_go_to_anothers_pbx(
    app, clock, pool, plan, customer, catalogue
) -> None:
    rival = make_client(clock, email="rival2@example.com")
    number_id = pool["74957001009"]
    numbers.reserve(number_id, rival, actor="client")
    with pytest.raises(numbers.NumberError):
        numbers.assign(number_id, plan, actor="client")
    assert _state(number_id) == "reserved"


def test_a_terminated_pbx_puts_its_numbers_in_quarantine(app, clock, pool, plan) -> None:
    numbers.assign(pool["74957001010"], plan, actor="staff")
    actions.set_service_status(plan, "terminated")
    number = session().get(PhoneNumber, pool["74957001010"])
    session().refresh(number)
    assert number.state == "quarantine"
    assert number.free_on == date(2026, 3, 2) + timedelta(days=10)
