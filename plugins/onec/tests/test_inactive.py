"""Usage from the 1C cloud (``portal onec import-usage``, the ``onec.usage`` job) and the
inactive clients it reveals: a licence never used, or not for its product's days, is listed
until a manager records an outcome."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from helpers import licence, set_day
from portal_onec import inactive, usage
from portal_onec.models import InformationBase, Licence, Organisation
from portal_onec.outcomes import Outcome
from portal_onec.renewal_models import BaseUsage, ServiceUse
from portal_onec.renewals import RenewalError
from sqlalchemy import select

from portal.plugin_api import Service, now, session
from portal.testing import actions


def organisation_with_base(
    service: Service, *, inn: str = "7707083893", base: str = "Бухгалтерия"
) -> InformationBase:
    """The licence's organisation and one base of it in the cloud."""
    org = Organisation(
        client_id=service.client_id,
        name=service.client.display_name,
        inn=inn,
        kpp="773601001",
        is_primary=True,
        created_at=now(),
    )
    session().add(org)
    session().flush()
    session().add(
        Licence(service_id=service.id, organisation_id=org.id, product_line="1С", created_at=now())
    )
    found = InformationBase(
        organisation_id=org.id, name=base, configuration="Бухгалтерия предприятия", created_at=now()
    )
    session().add(found)
    session().commit()
    return found


def listed(as_of: date) -> dict[int, bool]:
    """The inactive services on ``as_of``: id -> has an outcome."""
    return {i.service.id: i.outcome is not None for i in inactive.inactive_services(as_of)}


def test_json_and_csv_exports_are_imported_once_by_the_command(app, clock, tmp_path: Path) -> None:
    service = licence(clock)
    base = organisation_with_base(service)
    exported = tmp_path / "sessions.json"
    exported.write_text(
        json.dumps(
            [
                {
                    "base": base.id,
                    "login": "buh",
                    "time": "2026-01-10T09:15:00+03:00",
                    "sessions": 2,
                },
                {
                    "base": "Бухгалтерия",
                    "login": "buh",
                    "time": "2026-01-10T17:40:00",
                    "sessions": 1,
                },
                {"base": "Нет такой", "login": "x", "time": "2026-01-10"},
            ]
        ),
        encoding="utf-8",
    )
    csv_file = tmp_path / "sessions.csv"
    csv_file.write_bytes(
        "\ufeffbase;login;time;sessions\n"
        f"{base.id};director;12.01.2026 10:00;1\n"
        "Бухгалтерия;buh;2026-01-12T08:00:00Z;3\n".encode()
    )
    runner = app.test_cli_runner()
    done = runner.invoke(args=["onec", "import-usage", str(exported), str(csv_file)])
    assert done.exit_code == 0, done.output
    assert "3 records, 1 new days of use, 1 services" in done.output
    assert "Line 3: Нет такой: no such base." in done.output

    rows = (
        session()
        .execute(
            select(BaseUsage.login, BaseUsage.day, BaseUsage.sessions).order_by(
                BaseUsage.day, BaseUsage.login
            )
        )
        .all()
    )
    assert rows == [
        ("buh", date(2026, 1, 10), 3),
        ("buh", date(2026, 1, 12), 3),
        ("director", date(2026, 1, 12), 1),
    ]
    assert usage.last_use(service.id) == datetime(2026, 1, 12, 10, 0, tzinfo=UTC)

    again = runner.invoke(args=["onec", "import-usage", str(exported), str(csv_file)])
    assert again.exit_code == 0 and "0 new days of use" in again.output
    assert (
        session().scalar(select(BaseUsage.sessions).where(BaseUsage.day == date(2026, 1, 10))) == 3
    )

    broken = tmp_path / "broken.csv"
    broken.write_text("base;login;time\nБухгалтерия;buh;вчера\n", encoding="utf-8")
    failed = runner.invoke(args=["onec", "import-usage", str(broken)])
    assert failed.exit_code == 1 and "Line 2: вчера is not a date and time." in failed.output


def test_the_daily_job_reads_the_export_folder(app, clock, tmp_path: Path) -> None:
    service = licence(clock)
    base = organisation_with_base(service)
    (tmp_path / "day.csv").write_text(
        f"base_id,user,datetime,sessions\n{base.id},buh,2026-02-01 12:00:00,1\n", encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not an export", encoding="utf-8")
    assert usage.collect_daily(date(2026, 2, 2))["files"] == 0  # no folder set: nothing
    actions.save_plugin_settings("onec", {"usage_source": str(tmp_path)})
    counts = usage.collect_daily(date(2026, 2, 2))
    assert (counts["files"], counts["records"], counts["services"]) == (1, 1, 1)
    assert session().get(ServiceUse, service.id).last_used_at == datetime(
        2026, 2, 1, 12, tzinfo=UTC
    )


def test_an_unused_licence_is_inactive_until_an_outcome(app, clock, staff_member) -> None:
    unused = licence(clock, company="ООО «Спящая»", inactivity=30)  # bought 1 April 2025
    used = licence(clock, company="ООО «Работает»", inactivity=30)
    base = organisation_with_base(used, inn="7736050003")
    usage.store(
        usage.read_export(
            json.dumps([{"base": base.id, "login": "a", "time": "2025-04-20T10:00:00"}]).encode()
        )
    )

    assert listed(date(2025, 4, 30)) == {}  # 29 days since the purchase: not yet
    assert listed(date(2025, 5, 1)) == {unused.id: False}  # never used, 30 days
    assert listed(date(2025, 5, 20)) == {unused.id: False, used.id: False}  # 30 days since use

    set_day(clock, date(2025, 5, 20))
    assert inactive.without_outcome_count() == 2
    with pytest.raises(RenewalError, match="comment"):
        inactive.record_inactive_outcome(unused, Outcome.NOT_USED)
    session().rollback()
    inactive.record_inactive_outcome(
        unused, Outcome.NOT_USED, comment="Бухгалтер в отпуске", staff=staff_member
    )
    assert listed(date(2025, 5, 20)) == {unused.id: True, used.id: False}
    assert inactive.without_outcome_count() == 1

    # used again, then idle again: the old outcome is about the earlier stretch
    usage.store(
        usage.read_export(
            json.dumps([{"base": base.id, "login": "a", "time": "2025-05-21T10:00:00"}]).encode()
        )
    )
    inactive.record_inactive_outcome(used, Outcome.INVOICE_ISSUED)
    assert listed(date(2025, 6, 25)) == {unused.id: True, used.id: False}


def test_the_daily_job_reads_an_export_url(app, clock) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    service = licence(clock)
    base = organisation_with_base(service)
    body = json.dumps(
        {"sessions": [{"base": base.id, "login": "buh", "time": "2026-02-03T08:00:00Z"}]}
    ).encode()

    class Export(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Export)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/usage.json"
        actions.save_plugin_settings("onec", {"usage_source": url})
        counts = usage.collect_daily(date(2026, 2, 4))
    finally:
        server.shutdown()
    assert (counts["files"], counts["records"], counts["services"]) == (1, 1, 1)
    assert usage.last_use(service.id) == datetime(2026, 2, 3, 8, tzinfo=UTC)
