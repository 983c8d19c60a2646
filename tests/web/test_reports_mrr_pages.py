"""The MRR, churn, cohort and renewal reports' pages: rendered with data for staff who may view
reports (table, charts, CSV), refused (403) to staff who may not."""

from flask import Flask

from portal.testing.factories import make_staff
from tests.integration.test_reports_mrr import history, shop
from tests.integration.test_reports_renewals import renewing

__all__ = ["history", "renewing", "shop"]  # fixtures

PERIOD = "?since=2026-01-01&until=2026-04-30&currency=RUB"


def _csv(web, url: str) -> list[str]:
    response = web.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return response.get_data().decode("utf-8-sig").splitlines()


def test_mrr_churn_and_cohort_pages_with_data(app: Flask, staff_web, history) -> None:
    for name, charts in (("mrr", 2), ("churn", 1), ("cohorts", 0)):
        page = staff_web.get(f"/admin/reports/{name}{PERIOD}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert html.count("<svg") == charts and 'id="report-totals"' in html
        for args in ("&format=xlsx", "&format=print"):
            assert staff_web.get(f"/admin/reports/{name}{PERIOD}{args}").status_code == 200
    assert _csv(staff_web, f"/admin/reports/mrr{PERIOD}&format=csv")[1:5] == [
        "2026-01,0.00,3300.00,0.00,0.00,0.00,0.00,3300.00,39600.00,3,3300.00",
        "2026-02,3300.00,0.00,0.00,-600.00,-800.00,0.00,1900.00,22800.00,2,-1400.00",
        "2026-03,1900.00,1083.33,300.00,0.00,0.00,0.00,3283.33,39400.00,3,1383.33",
        "2026-04,3283.33,0.00,0.00,0.00,0.00,1083.33,4366.67,52400.00,4,1083.33",
    ]
    assert _csv(staff_web, f"/admin/reports/churn{PERIOD}&format=csv")[2] == (
        "2026-02,3,1,33.30,3,1,33.30,42.40"
    )
    assert _csv(staff_web, f"/admin/reports/cohorts{PERIOD}&format=csv")[1] == (
        "2026-01,3,100.00,66.70,66.70,100.00"
    )


def test_renewal_pages_with_data(app: Flask, staff_web, renewing) -> None:
    page = staff_web.get("/admin/reports/renewals?days=30&currency=RUB")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/admin/clients/{renewing["Q"].client_id}"' in html
    assert f'href="/admin/services/{renewing["T"].id}"' in html
    rows = _csv(staff_web, "/admin/reports/renewals?days=30&currency=RUB&format=csv")
    assert [row.split(",")[:5] for row in rows[1:]] == [
        ["2026-05-15", "Client T", f"#{renewing['T'].id} Users", "1000.00", "RUB"],
        ["2026-05-20", "Client P", f"#{renewing['P'].id} Users", "1200.00", "RUB"],
        ["2026-06-01", "Client Q", f"#{renewing['Q'].id} Annual licence", "13000.00", "RUB"],
        ["", "", "", "15200.00", "RUB"],
    ]
    rate = staff_web.get("/admin/reports/renewal_rate?since=2026-03-01&currency=RUB")
    assert rate.status_code == 200 and "<svg" in rate.get_data(as_text=True)
    assert _csv(staff_web, "/admin/reports/renewal_rate?since=2026-03-01&format=csv")[1:] == [
        "2026-03,2,2,0,100.00",
        "2026-04,2,1,1,50.00",
        "2026-05,1,0,1,0.00",
        ",5,3,2,60.00",
    ]


def test_the_reports_need_the_reports_permission(app: Flask, clock) -> None:
    support = make_staff(clock, role="support", email="support@example.com")
    web = app.test_client()
    web.sign_in_staff(support.email)
    for name in ("mrr", "churn", "cohorts", "renewals", "renewal_rate"):
        assert web.get(f"/admin/reports/{name}").status_code == 403
