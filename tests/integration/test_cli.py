"""The `portal` command: demo data (idempotent), staff creation, plugins list."""

from flask import Flask
from sqlalchemy import func, select

from portal.accounts.models import Client, Staff
from portal.catalog.models import Product
from portal.core.extensions import db


def test_demo_is_idempotent_and_prints_the_logins(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded." in first.output
    assert "admin@example.com" in first.output and "demo-admin-password" in first.output
    assert "client@example.com" in first.output and "demo-client-password" in first.output
    counts = [
        db.session.scalar(select(func.count()).select_from(m)) for m in (Staff, Client, Product)
    ]
    second = runner.invoke(args=["demo"])
    assert "Demo data already present." in second.output
    again = [
        db.session.scalar(select(func.count()).select_from(m)) for m in (Staff, Client, Product)
    ]
    assert counts == again and counts[2] >= 3


def test_demo_logins_work(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["demo"])
    web = app.test_client()
    web.sign_in_staff("admin@example.com", "demo-admin-password")
    assert web.get("/admin/").status_code == 200
    web.sign_in_client("client@example.com", "demo-client-password")
    assert "ООО «Ромашка»" in web.get("/").get_data(as_text=True)


def test_staff_create(app: Flask) -> None:
    runner = app.test_cli_runner()
    args = ["staff", "create", "--email", "New@Example.com", "--first-name", "Олег"]
    result = runner.invoke(args=args, input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    staff = db.session.scalar(select(Staff).where(Staff.email == "new@example.com"))
    assert staff is not None and staff.check_password("a long password")
    again = runner.invoke(args=args, input="a long password\na long password\n")
    assert again.exit_code != 0
    assert "already exists" in again.output
