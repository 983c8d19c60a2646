"""CDR import end to end on the test database (SQLite or PostgreSQL): idempotency, rejects
and re-rating, included minutes, prepaid debit, the low-balance letter, block and unblock."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from portal_telephony import cdr_import
from portal_telephony.cdr_import import import_file, import_json, rerate_rejects
from portal_telephony.rating_models import Call, CdrImport, Destination, Prefix, Rate, Reject
from rating_fixtures import NUMBER, SINCE, make_line, make_tariff, master_row, write_master
from sqlalchemy import func, select

from portal.plugin_api import credit_balance, record_payment, session, use_credits
from portal.testing import actions

D = Decimal


def calls() -> int:
    return session().scalar(select(func.count()).select_from(Call))


def test_the_same_master_csv_twice_charges_once(app, clock, tmp_path) -> None:
    make_tariff()
    line = make_line(clock, prepaid=True)
    record_payment(line.client, amount=D("1000.00"), method="bank", reference="pp-1")
    rows = [master_row(f"1764676800.{i}", billsec=61) for i in range(10)]
    path = write_master(tmp_path / "Master.csv", rows)
    first = import_file(path, source="pbx1")
    assert (first.rated, first.duplicates, first.charged) == (10, 0, D("20.00"))  # 61 s = 2 min
    again = import_file(path, source="pbx1")
    assert (again.rated, again.duplicates, again.charged) == (0, 10, D("0"))
    assert calls() == 10
    assert credit_balance(line.client) == D("980.00")
    # the same rows in one file twice, and a copy without uniqueid (digest of the row)
    twice = write_master(tmp_path / "twice.csv", rows + rows)
    assert import_file(twice, source="pbx1").rated == 0
    imports = session().scalars(select(CdrImport).order_by(CdrImport.id)).all()
    assert [(i.status, i.rated, i.duplicates) for i in imports] == [
        ("done", 10, 0),
        ("done", 0, 10),
        ("done", 0, 20),
    ]


def test_rows_without_a_unique_id_are_deduplicated_by_their_digest(app, clock, tmp_path) -> None:
    make_tariff()
    make_line(clock, prepaid=False)
    path = write_master(tmp_path / "m.csv", [master_row(""), master_row("", billsec=120)])
    assert import_file(path).rated == 2
    assert import_file(path).duplicates == 2
    assert calls() == 2


def test_rejects_keep_their_reason_and_are_rated_after_a_fix(app, clock, tmp_path) -> None:
    tariff = make_tariff()
    make_line(clock, prepaid=False)
    path = write_master(
        tmp_path / "m.csv",
        [
            master_row("u1", src="74950000000"),  # nobody's number
            master_row("u2", dst="810442071234567"),  # London: no destination
            master_row("u3", billsec=-5),
            master_row("u4").replace("2026-11-02 09:00:00", "02/11/2026", 1),
            master_row("u5"),
        ],
    )
    stats = import_file(path)
    assert (stats.rated, stats.rejected) == (1, 4)
    reasons = dict(session().execute(select(Reject.call_id, Reject.reason)).all())
    assert reasons == {
        "default:u1": "unknown_account",
        "default:u2": "no_destination",
        "default:u3": "negative_duration",
        "default:u4": "bad_date",
    }
    assert import_file(path).rejected == 0  # known rejects are not queued twice
    assert session().scalar(select(func.count()).select_from(Reject)) == 4
    # the fix: a London destination with a rate; re-rating takes u2 out of the queue
    london = Destination(tariff_id=tariff.id, name="Лондон", group_name="international")
    session().add(london)
    session().flush()
    session().add(Prefix(destination_id=london.id, prefix="44"))
    session().add(
        Rate(
            destination_id=london.id,
            effective_from=SINCE,
            per_minute=D("12.50"),
            connect_fee=D(0),
            first_increment=60,
            next_increment=60,
            minimum_charge=D(0),
        )
    )
    session().commit()
    assert rerate_rejects().rated == 1
    assert set(session().scalars(select(Reject.call_id))) == {
        "default:u1",
        "default:u3",
        "default:u4",
    }
    london_call = session().scalar(select(Call).where(Call.call_id == "default:u2"))
    assert (london_call.destination, london_call.cost) == ("Лондон", D("12.50"))


def test_included_minutes_are_used_before_money(app, clock, tmp_path) -> None:
    make_tariff()
    line = make_line(clock, prepaid=False, included_minutes=2)
    rows = [master_row("a", billsec=60), master_row("b", billsec=90), master_row("c", billsec=60)]
    import_file(write_master(tmp_path / "m.csv", rows))
    got = (
        session()
        .execute(select(Call.call_id, Call.included_seconds, Call.cost).order_by(Call.call_id))
        .all()
    )
    # a: 60 s from the package; b: 120 billed, 60 left in the package, 60 paid; c: all paid
    assert got == [
        ("default:a", 60, D("0.00")),
        ("default:b", 60, D("1.00")),
        ("default:c", 0, D("1.00")),
    ]
    # a later import in the same month sees the package used up
    import_file(write_master(tmp_path / "n.csv", [master_row("d", billsec=60)]))
    assert session().scalar(select(Call.cost).where(Call.call_id == "default:d")) == D("1.00")
    assert line.service.id == session().scalar(
        select(Call.service_id).where(Call.call_id == "default:d")
    )


@pytest.mark.parametrize("cycle", ["monthly", "quarterly"])
def test_included_minutes_follow_the_plans_months_in_the_portals_time_zone(
    app, clock, tmp_path, cycle
) -> None:
    """A plan renewing on the 15th gets its package again on each 15th (Moscow time), not on
    the 1st; a quarterly plan gets it each month of its quarter, like a monthly plan."""
    make_tariff()
    line = make_line(
        clock, prepaid=False, included_minutes=1, cycle=cycle, start=date(2026, 11, 15)
    )
    rows = [
        master_row("a", start=datetime(2026, 11, 20, 9, tzinfo=UTC)),  # 15 Nov - 15 Dec
        master_row("b", start=datetime(2026, 12, 1, 9, tzinfo=UTC)),  # same plan month
        master_row("c", start=datetime(2026, 12, 14, 20, 30, tzinfo=UTC)),  # 23:30 MSK 14 Dec
        master_row("d", start=datetime(2026, 12, 14, 21, 30, tzinfo=UTC)),  # 00:30 MSK 15 Dec
    ]
    import_file(write_master(tmp_path / "m.csv", rows))
    # a later import (a fresh importer) reads what the month used from the calls
    import_file(
        write_master(
            tmp_path / "n.csv", [master_row("e", start=datetime(2027, 1, 2, 9, tzinfo=UTC))]
        )
    )
    got = session().execute(
        select(Call.call_id, Call.included_seconds, Call.cost).order_by(Call.call_id)
    )
    assert got.all() == [
        ("default:a", 60, D("0.00")),
        ("default:b", 0, D("1.00")),
        ("default:c", 0, D("1.00")),
        ("default:d", 60, D("0.00")),
        ("default:e", 0, D("1.00")),
    ]
    assert line.service.cycle == cycle


def test_prepaid_zero_blocks_within_the_import_and_a_payment_unblocks(
    app, clock, tmp_path, mailbox
) -> None:
    make_tariff()
    line = make_line(clock, prepaid=True, low_balance="3.00")
    record_payment(line.client, amount=D("5.00"), method="bank", reference="pp-1")
    rows = [master_row(f"x{i}", billsec=60) for i in range(7)]  # 7 x 1.00
    path = write_master(tmp_path / "m.csv", rows)
    stats = import_file(path)
    assert stats.charged == D("7.00")
    session().refresh(line.terms)
    assert credit_balance(line.client) == D("-2.00")
    assert line.terms.blocked and line.terms.low_notified
    blocked = [t for t in actions.provisioning_tasks() if t.service_id == line.service.id]
    assert len(blocked) == 1
    assert app.test_cli_runner().invoke(args=["mail", "send"]).exit_code == 0
    low = [m for m in mailbox if "balance" in m["Subject"] or "баланс" in m["Subject"]]
    assert len(low) == 1  # once per crossing, though seven debits crossed it
    record_payment(line.client, amount=D("10.00"), method="bank", reference="pp-2")
    session().refresh(line.terms)
    assert not line.terms.blocked and not line.terms.low_notified
    assert credit_balance(line.client) == D("8.00")
    assert len([t for t in actions.provisioning_tasks() if t.service_id == line.service.id]) == 2
    # the same file again: nothing charged twice, nothing blocked again
    assert import_file(path).charged == D("0")
    assert credit_balance(line.client) == D("8.00")


def test_json_cdrs_from_a_pbx_are_rated_once(app, clock) -> None:
    make_tariff()
    make_line(clock, prepaid=False)
    record = {
        "id": "j1",
        "src": "74951110000",
        "dst": "89161234567",
        "start": datetime(2026, 11, 2, 9, tzinfo=UTC).isoformat(),
        "billsec": 30,
    }
    assert import_json([record, record], source="pbx7").rated == 1
    assert import_json([record], source="pbx7").duplicates == 1
    assert session().scalar(select(Call.cost)) == D("2.00")


def _prepaid_line(clock, amount: str = "100.00"):  # type: ignore[no-untyped-def]
    make_tariff()
    line = make_line(clock, prepaid=True)
    record_payment(line.client, amount=D(amount), method="bank", reference="pp-1")
    return line


def test_a_call_repeated_in_the_next_batch_counts_once(app, clock, tmp_path, monkeypatch) -> None:
    """Batches of two. On PostgreSQL a batch is rated while the previous one is still being
    written (its writer here waits until then): a call of that batch counts as rated, and a
    row it queued as a reject leaves the queue when the next batch holds the good row."""
    monkeypatch.setattr(cdr_import, "BATCH", 2)
    line = _prepaid_line(clock)
    bad = master_row("r").replace("2026-11-02 09:00:00", "02/11/2026", 1)
    rows = ["a", "b", "a", bad, "r", "b", "c"]
    path = write_master(tmp_path / "m.csv", [r if "," in r else master_row(r) for r in rows])
    prepared: list[int] = []
    written: list[int] = []
    prepare, write = cdr_import.Importer.prepare, cdr_import.Importer.write

    def prepare_and_count(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = prepare(self, *args, **kwargs)
        prepared.append(1)
        return result

    def write_after_the_next_is_rated(self, batch):  # type: ignore[no-untyped-def]
        written.append(1)
        if session().get_bind().dialect.name == "postgresql" and len(written) < 4:
            deadline = time.monotonic() + 10
            while len(prepared) <= len(written) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(prepared) > len(written)
        return write(self, batch)

    monkeypatch.setattr(cdr_import.Importer, "prepare", prepare_and_count)
    monkeypatch.setattr(cdr_import.Importer, "write", write_after_the_next_is_rated)
    stats = import_file(path)
    assert len(written) == 4  # each batch written once: no conflict on the unique call_id
    assert (stats.rows, stats.rated, stats.rejected, stats.duplicates) == (7, 4, 1, 2)
    assert stats.charged == D("4.00")
    assert sorted(session().scalars(select(Call.call_id))) == [
        "default:a",
        "default:b",
        "default:c",
        "default:r",
    ]
    assert session().scalar(select(func.count()).select_from(Reject)) == 0
    assert credit_balance(line.client) == D("96.00")
    record = session().scalars(select(CdrImport)).one()
    assert (record.status, record.rows, record.rated, record.rejected, record.duplicates) == (
        "done",
        7,
        4,
        1,
        2,
    )


def test_calls_another_import_wrote_meanwhile_are_not_charged_twice(
    app, clock, tmp_path, monkeypatch
) -> None:
    """The duplicate check misses a batch's calls (another import committed them just after
    it): the unique ``call_id`` stops the write, and the batch is imported again."""
    monkeypatch.setattr(cdr_import, "BATCH", 3)
    line = _prepaid_line(clock)
    path = write_master(tmp_path / "m.csv", [master_row(f"k{i}") for i in range(7)])
    assert import_file(path).charged == D("7.00")
    seen = cdr_import._seen
    blind = iter([(set(), set())])
    monkeypatch.setattr(cdr_import, "_seen", lambda ids: next(blind, None) or seen(ids))
    again = import_file(path)
    assert next(blind, None) is None  # the first batch was checked blind
    assert (again.rated, again.duplicates, again.charged) == (0, 7, D("0"))
    assert calls() == 7
    assert credit_balance(line.client) == D("93.00")


def test_an_import_that_fails_midway_charges_each_call_once_when_run_again(
    app, clock, tmp_path, monkeypatch
) -> None:
    """The second batch's debit fails: the first batch stays imported and charged, and the
    file imported again charges only the rest."""
    monkeypatch.setattr(cdr_import, "BATCH", 3)
    line = _prepaid_line(clock)
    path = write_master(tmp_path / "m.csv", [master_row(f"f{i}") for i in range(7)])
    debits: list[int] = []

    def second_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        debits.append(1)
        if len(debits) == 2:
            raise RuntimeError("the database went away")
        return use_credits(*args, **kwargs)

    monkeypatch.setattr(cdr_import, "use_credits", second_fails)
    with pytest.raises(RuntimeError):
        import_file(path)
    record = session().scalars(select(CdrImport)).one()
    assert (record.status, record.rated) == ("failed", 3)
    assert calls() == 3
    assert credit_balance(line.client) == D("97.00")
    monkeypatch.setattr(cdr_import, "use_credits", use_credits)
    again = import_file(path)
    assert (again.rated, again.duplicates, again.charged) == (4, 3, D("4.00"))
    assert calls() == 7
    assert credit_balance(line.client) == D("93.00")


def test_json_cdrs_after_an_uncommitted_change_to_their_client(app, clock) -> None:
    """A caller's pending change (here the client's row, which a prepaid debit locks) is
    committed before the batches are written in another session, as a batch's commit always
    committed it: the debit neither waits for it nor misses it."""
    line = _prepaid_line(clock)
    line.client.company = "ООО «Связь»"
    session().flush()
    record = {"id": "p1", "src": NUMBER, "dst": "84951234567", "billsec": 60}
    record["start"] = datetime(2026, 11, 2, 9, tzinfo=UTC).isoformat()
    assert import_json([record], source="pbx").charged == D("1.00")
    session().rollback()
    session().refresh(line.client)
    assert line.client.company == "ООО «Связь»"
    assert credit_balance(line.client) == D("99.00")
