"""Billing → Billing runs and Forecast in the admin area, and the `portal billing` commands."""

from datetime import date

from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.invoicing.models import BillingRun, Invoice
from portal.platform import demo
from portal.testing.factories import make_staff
from tests.integration.test_billing_run import buy, customer


def test_staff_run_billing_for_a_date_and_see_its_progress(staff_web, clock) -> None:
    shop = demo.load_demo_catalogue()
    db.session.commit()
    buy(shop, customer(clock), demo.DISK_PRODUCT, "monthly", 2)

    bad = staff_web.submit("/admin/billing/runs", {"as_of": "31.02.2026"})
    assert bad.status_code == 302
    assert "YYYY-MM-DD" in staff_web.get("/admin/billing/runs").get_data(as_text=True)

    staff_web.submit("/admin/billing/runs", {"as_of": "2026-03-01"})
    page = staff_web.get("/admin/billing/runs").get_data(as_text=True)
    assert 'id="billing-runs"' in page and "1 / 1" in page
    assert db.session.query(Invoice).count() == 2  # the first invoice and the renewal


def test_the_forecast_page_and_its_csv(staff_web, clock) -> None:
    shop = demo.load_demo_catalogue()
    db.session.commit()
    client = customer(clock, company="ООО Прогноз")
    buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 1, on=date(2026, 6, 1))

    page = staff_web.get("/admin/billing/forecast?months=1").get_data(as_text=True)
    assert "2026-11" in page and "ООО Прогноз" in page  # due 01.12, invoiced 24.11
    csv = staff_web.get("/admin/billing/forecast?months=1&format=csv")
    assert csv.mimetype == "text/csv" and "4800,00" in csv.get_data(as_text=True)


def test_billing_pages_need_billing_permissions(app: Flask, clock) -> None:
    support = make_staff(clock, role="support", email="agent@example.com")
    web = app.test_client()
    web.sign_in_staff(support.email)
    assert web.get("/admin/billing/runs").status_code == 403
    assert web.get("/admin/billing/forecast").status_code == 403


def test_cli_billing_run_and_forecast(app: Flask, clock) -> None:
    shop = demo.load_demo_catalogue()
    db.session.commit()
    buy(shop, customer(clock), demo.DISK_PRODUCT, "monthly", 2)
    runner = app.test_cli_runner()

    forecast = runner.invoke(args=["billing", "forecast", "--months", "2", "--as-of", "2026-03-01"])
    assert forecast.exit_code == 0, forecast.output
    assert "2026-03  RUB" in forecast.output and "120.00" in forecast.output

    result = runner.invoke(args=["billing", "run", "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "invoices 1" in result.output
    again = runner.invoke(args=["billing", "run", "--as-of", "2026-03-01"])
    assert "invoices 0" in again.output


def test_cli_billing_run_for_a_later_date_asks_first(app: Flask, clock) -> None:
    """Today is 02.11.2026 (the test clock): a run as of 01.03.2027 issues real invoices."""
    shop = demo.load_demo_catalogue()
    db.session.commit()
    buy(shop, customer(clock), demo.DISK_PRODUCT, "monthly", 2)
    runner = app.test_cli_runner()

    declined = runner.invoke(args=["billing", "run", "--as-of", "2027-03-01"], input="n\n")
    assert declined.exit_code == 1 and "real invoices dated 2027-03-01" in declined.output
    assert db.session.scalar(select(func.count(BillingRun.id))) == 0

    confirmed = runner.invoke(args=["billing", "run", "--as-of", "2027-03-01", "--yes"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "invoices 1" in confirmed.output and "Issue them?" not in confirmed.output


def test_a_run_for_a_later_date_is_confirmed_first_and_says_real_invoices_go_out(
    staff_web, staff_member, clock
) -> None:
    """Today is 02.11.2026 (the test clock): a run "as of" 01.03.2027 would issue and mail
    real invoices dated then, so it asks, and only a confirmation of that date runs it."""
    staff_member.language = "ru"
    shop = demo.load_demo_catalogue()
    db.session.commit()
    buy(shop, customer(clock), demo.DISK_PRODUCT, "monthly", 2)
    issued = db.session.query(Invoice).count()

    asked = staff_web.submit("/admin/billing/runs", {"as_of": "2027-03-01"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm-future-run"' in page
    assert "Это не прогноз: будут выставлены настоящие счета датой 01.03.2027" in page
    assert "отправлены клиентам по электронной почте" in page
    assert 'name="confirm_future" value="2027-03-01" required' in page
    assert db.session.query(Invoice).count() == issued
    assert db.session.query(BillingRun).count() == 0

    # the server decides, not the page: a confirmation of another date is none
    other = staff_web.submit(
        "/admin/billing/runs", {"as_of": "2027-03-01", "confirm_future": "2027-02-01"}
    )
    assert 'id="confirm-future-run"' in other.get_data(as_text=True)
    assert db.session.query(Invoice).count() == issued

    done = staff_web.submit(
        "/admin/billing/runs", {"as_of": "2027-03-01", "confirm_future": "2027-03-01"}
    )
    assert done.status_code == 302
    dated = db.session.scalars(
        select(Invoice.issue_date).where(Invoice.issue_date > clock.now().date())
    )
    assert set(dated) == {date(2027, 3, 1)}


def test_a_run_for_today_needs_no_confirmation(staff_web, clock) -> None:
    shop = demo.load_demo_catalogue()
    db.session.commit()
    buy(shop, customer(clock), demo.DISK_PRODUCT, "monthly", 2)
    done = staff_web.submit("/admin/billing/runs", {"as_of": clock.now().date().isoformat()})
    assert done.status_code == 302
    assert db.session.query(BillingRun).count() == 1


def test_the_forecast_says_it_issues_nothing(staff_web, staff_member, clock) -> None:
    staff_member.language = "ru"
    db.session.commit()
    page = staff_web.get("/admin/billing/forecast").get_data(as_text=True)
    assert "Это только прогноз: он не выставляет счета, ничего не отправляет" in page
    assert 'method="post"' not in page.split('id="forecast-read-only"')[1]
