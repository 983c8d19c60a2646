"""The rating side through the web: the client's calls page (filters, CSV export, scoped to the
client), the balance section, the staff's Calls tab, rejects queue with re-rate (CSRF, staff
permissions), CDR upload queued and imported by the job with its progress, the JSON endpoint
with a per-PBX token, the reports; and the postpaid lines on the renewal (usage collector)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_telephony import calls, cdr_jobs
from portal_telephony.cdr_import import import_file
from portal_telephony.rating_models import Call, CdrImport, Reject
from portal_telephony.rating_views import add_pbx
from rating_fixtures import make_line, make_tariff, master_row, write_master
from sqlalchemy import func, select

from portal.billing import Period
from portal.plugin_api import record_payment, session
from portal.testing.factories import PASSWORD, make_client, make_staff

D = Decimal


def _rated(clock, tmp_path, prepaid=False):
    make_tariff()
    line = make_line(clock, prepaid=prepaid)
    rows = [
        master_row("c1", dst="84951234567", billsec=61),
        master_row("c2", dst="89161234567", billsec=30),
        master_row("c3", src="74950000000"),  # nobody's: a reject
    ]
    import_file(write_master(tmp_path / "m.csv", rows))
    return line


def test_the_client_sees_filters_and_exports_only_their_calls(app, clock, tmp_path) -> None:
    line = _rated(clock, tmp_path)
    other = make_client(clock, email="other@example.com")
    web = app.test_client()
    web.sign_in_client(line.client.email, PASSWORD)
    page = web.get("/telephony/calls/").get_data(as_text=True)
    assert "84951234567" in page and "89161234567" in page and 'id="calls-csv"' in page
    mobile = web.get("/telephony/calls/?group=mobile").get_data(as_text=True)
    assert "89161234567" in mobile and "84951234567" not in mobile
    exported = web.get("/telephony/calls/?format=csv&group=local")
    assert exported.mimetype == "text/csv"
    body = exported.get_data(as_text=True)
    assert "84951234567" in body and "2.00" in body and "89161234567" not in body
    stranger = app.test_client()
    stranger.sign_in_client(other.email, PASSWORD)
    assert "84951234567" not in stranger.get("/telephony/calls/?format=csv").get_data(as_text=True)
    assert 'id="telephony-balance-amount"' in web.get("/telephony/balance").get_data(as_text=True)


def test_staff_tab_rejects_queue_and_rerate(app, clock, tmp_path) -> None:
    line = _rated(clock, tmp_path)
    staff = make_staff(clock, email="noc@example.com")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    tab = web.get(f"/admin/clients/{line.client.id}/tab/telephony").get_data(as_text=True)
    assert 'id="telephony-calls-summary"' in tab and "89161234567" in tab
    queue = web.get("/admin/telephony/rejects").get_data(as_text=True)
    assert "unknown_account" in queue
    assert web.post("/admin/telephony/rejects/rerate").status_code == 400  # no CSRF token
    done = web.submit("/admin/telephony/rejects/rerate", {}, form_page="/admin/telephony/rejects")
    assert done.status_code == 302
    assert session().scalar(select(func.count()).select_from(Reject)) == 1  # still unknown
    client_web = app.test_client()
    client_web.sign_in_client(line.client.email, PASSWORD)
    assert client_web.get("/admin/telephony/rejects").status_code in (302, 403)


def test_an_upload_is_imported_by_the_job_with_its_progress(app, clock, tmp_path) -> None:
    make_tariff()
    make_line(clock)
    staff = make_staff(clock, email="noc@example.com")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    data = "".join(master_row(f"up{i}") for i in range(3)).encode()
    sent = web.submit(
        "/admin/telephony/cdr-imports",
        {"file": (io.BytesIO(data), "Master.csv"), "fmt": "asterisk", "source": "pbx1"},
        form_page="/admin/telephony/cdr-imports",
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    record = session().scalar(select(CdrImport))
    assert record.status == "queued"
    assert cdr_jobs.run(date(2026, 11, 2))["uploads"] == 1
    progress = web.get(f"/admin/telephony/cdr-imports/{record.id}.json").get_json()
    assert progress["status"] == "done" and progress["percent"] == 100 and progress["rated"] == 3


def test_the_watched_folder(app, clock, tmp_path) -> None:
    make_tariff()
    make_line(clock)
    folder = cdr_jobs.incoming_dir() / "pbx2"
    folder.mkdir(parents=True, exist_ok=True)
    write_master(folder / "Master-1.csv", [master_row("w1"), master_row("w2")])
    assert cdr_jobs.run(date(2026, 11, 2)) == {"uploads": 0, "files": 1, "rated": 2}
    assert not list(folder.glob("*.csv")) and len(list((folder / "done").glob("*.csv"))) == 1


def test_the_json_endpoint_needs_the_pbx_token(app, clock) -> None:
    make_tariff()
    make_line(clock)
    token = add_pbx("office-pbx")
    web = app.test_client()
    cdr = {
        "id": "j1",
        "src": "74951110000",
        "dst": "84951234567",
        "start": datetime(2026, 11, 2, 9, tzinfo=UTC).isoformat(),
        "billsec": 65,
    }
    body = json.dumps({"cdrs": [cdr]})
    refused = web.post(
        "/telephony/api/cdrs",
        data=body,
        content_type="application/json",
        headers={"Authorization": "Bearer wrong"},
    )
    assert refused.status_code == 401
    headers = {"Authorization": f"Bearer {token}"}
    first = web.post(
        "/telephony/api/cdrs", data=body, content_type="application/json", headers=headers
    )
    assert first.status_code == 200 and first.get_json()["rated"] == 1
    again = web.post(
        "/telephony/api/cdrs", data=body, content_type="application/json", headers=headers
    )
    assert again.get_json() == {"rated": 0, "rejected": 0, "duplicates": 1, "unanswered": 0}
    assert session().scalar(select(Call.call_id)) == "office-pbx:j1"
    assert token not in {row for row in session().execute(select(func.min(Call.call_id))).scalars()}


def test_the_reports_run(app, clock, tmp_path) -> None:
    _rated(clock, tmp_path)
    staff = make_staff(clock, email="boss@example.com")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    for name in (
        "telephony_traffic",
        "telephony_arpu",
        "telephony_top_clients",
        "telephony_unrated",
    ):
        page = web.get(f"/admin/reports/{name}?since=2026-11-01&until=2026-11-30")
        assert page.status_code == 200, name
        assert "<svg" in page.get_data(as_text=True), name
    csv_text = web.get(
        "/admin/reports/telephony_traffic/export.csv?since=2026-11-01&until=2026-11-30"
    )
    if csv_text.status_code == 200:
        assert "Москва" in csv_text.get_data(as_text=True)


def test_postpaid_calls_are_lines_per_destination_group(app, clock, tmp_path) -> None:
    line = _rated(clock, tmp_path, prepaid=False)
    charges = calls.period_charges(line.service, Period(date(2026, 11, 1), date(2026, 12, 1)))
    assert [(c.quantity, c.unit_price) for c in charges] == [(D(1), D("2.00")), (D(1), D("2.00"))]
    assert "local" in charges[0].description and "mobile" in charges[1].description
    assert calls.period_charges(line.service, Period(date(2026, 12, 1), date(2027, 1, 1))) == []


def test_prepaid_calls_are_not_on_the_invoice(app, clock, tmp_path) -> None:
    make_tariff()
    line = make_line(clock, prepaid=True)
    record_payment(line.client, amount=D("100.00"), method="bank", reference="pp")
    import_file(write_master(tmp_path / "m.csv", [master_row("p1")]))
    assert calls.period_charges(line.service, Period(date(2026, 11, 1), date(2026, 12, 1))) == []
