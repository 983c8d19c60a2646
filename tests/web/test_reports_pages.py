"""The reports' pages: the dashboard, a report with its filters, exports and printable page."""

from flask import Flask


def test_every_core_report_renders_and_exports(app: Flask, staff_web) -> None:
    page = staff_web.get("/admin/reports/")
    assert page.status_code == 200, page.get_data(as_text=True)[:3000]
    for name in ("income", "vat"):
        for args in ("", "?group_by=product", "?format=csv", "?format=xlsx", "?format=print"):
            response = staff_web.get(f"/admin/reports/{name}{args}")
            assert response.status_code == 200, (
                name,
                args,
                response.get_data(as_text=True)[-3000:],
            )
