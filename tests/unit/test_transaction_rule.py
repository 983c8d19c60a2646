"""Views never commit: the service a view calls is the unit of work (docs/development.md,
"Transactions"). A view that commits, or opens a unit of work itself, is listed by name."""

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"
VIEW_PACKAGES = ("admin", "client", "auth")


def view_modules() -> list[Path]:
    """The shell (portal/web), every area's admin/, client/ and auth/ packages, and the
    payment gateways' callbacks."""
    found = sorted((PORTAL / "web").rglob("*.py"))
    for area in sorted(p for p in PORTAL.iterdir() if p.is_dir()):
        for package in VIEW_PACKAGES:
            found += sorted((area / package).rglob("*.py"))
    found.append(PORTAL / "invoicing" / "gateway_callbacks.py")
    return found


def transaction_calls(source: str) -> list[tuple[int, str]]:
    """(line, what) for every ``<anything>.commit(...)`` and every use of ``unit_of_work``."""
    offenders = []
    for node in ast.walk(ast.parse(source)):
        call = node.func if isinstance(node, ast.Call) else None
        if isinstance(call, ast.Attribute) and call.attr == "commit":
            offenders.append((node.lineno, f"{ast.unparse(call)}()"))
        if isinstance(node, ast.Name | ast.Attribute | ast.alias):
            name = {ast.Name: "id", ast.Attribute: "attr", ast.alias: "name"}[type(node)]
            if getattr(node, name).rsplit(".", 1)[-1] == "unit_of_work":
                offenders.append((getattr(node, "lineno", 0), "unit_of_work"))
    return sorted(set(offenders))


def test_the_scan_covers_the_views_and_finds_a_commit() -> None:
    modules = {p.relative_to(PORTAL).as_posix() for p in view_modules()}
    assert {
        "accounts/auth/language.py",
        "invoicing/admin/invoices.py",
        "invoicing/client/billing.py",
        "accounts/auth/views.py",
        "invoicing/gateway_callbacks.py",
    } <= modules
    source = (
        "from portal.core.transactions import unit_of_work\n"
        "def view():\n"
        "    db.session.commit()\n"
        "    with unit_of_work():\n"
        "        pass\n"
    )
    assert transaction_calls(source) == [
        (1, "unit_of_work"),
        (3, "db.session.commit()"),
        (4, "unit_of_work"),
    ]
    assert transaction_calls('"""We never call commit() here."""\n') == []


def test_views_never_commit() -> None:
    offenders = [
        f"{path.relative_to(PORTAL.parent)}:{line}: {what}"
        for path in view_modules()
        for line, what in transaction_calls(path.read_text(encoding="utf-8"))
    ]
    if offenders:
        pytest.fail(
            "Views never commit; move the transaction into the service they call:\n"
            + "\n".join(offenders)
        )
