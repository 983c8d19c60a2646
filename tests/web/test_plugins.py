"""Plugins: discovery by entry point, enabled/disabled/broken, every hook wired and documented."""

import ast
import inspect
import re
import textwrap
import typing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal import hookimpl
from portal.core.settings import PROJECT_ROOT
from portal.platform.hooks import specs
from portal.platform.hooks.manager import build_plugin_manager
from tests.plugins import exerciser

HOOKSPECS = sorted(
    name
    for name, obj in inspect.getmembers(specs, inspect.isfunction)
    if hasattr(obj, "portal_spec")
)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three distributions installed on sys.path: a good, a broken and an unenabled plugin."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "goodplug.py").write_text(
        textwrap.dedent(
            """
            from portal import hookimpl
            from portal.web.menu import MenuItem

            @hookimpl
            def register_admin_menu_items():
                return [MenuItem("reports", "Good report", "admin.dashboard")]
            """
        )
    )
    (site / "brokenplug.py").write_text("raise RuntimeError('cannot reach the PBX')\n")
    (site / "idleplug.py").write_text("")
    for name, module in [
        ("goodplug", "goodplug"),
        ("brokenplug", "brokenplug"),
        ("idleplug", "idleplug"),
    ]:
        info = site / f"{name}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[portal.plugins]\n{name} = {module}\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_only_enabled_plugins_load_and_a_broken_one_is_reported(installed: Path) -> None:
    plugins = build_plugin_manager(["goodplug", "brokenplug", "missingplug"])
    ours = {"goodplug", "brokenplug", "idleplug", "missingplug"}  # not plugins/* installed too
    states = {name: info.state for name, info in plugins.infos.items() if name in ours}
    assert states == {
        "goodplug": "enabled",
        "brokenplug": "failed",
        "idleplug": "disabled",
        "missingplug": "failed",
    }
    assert "RuntimeError: cannot reach the PBX" in plugins.infos["brokenplug"].error
    assert plugins.infos["missingplug"].error == "not installed"
    assert plugins.infos["goodplug"].version == "1.2.3"
    labels = [item.label for item in plugins.collect("register_admin_menu_items")]
    assert labels == ["Good report"]


def test_portal_starts_with_a_broken_plugin_and_shows_it(
    installed: Path, make_app, staff_member
) -> None:
    app: Flask = make_app(plugins=["goodplug", "brokenplug"])
    with app.app_context():
        web = app.test_client()
        web.sign_in_staff(staff_member.email)
        page = web.get("/admin/plugins").get_data(as_text=True)
        assert re.search(r'data-plugin="brokenplug".*?failed.*?cannot reach the PBX', page, re.S)
        assert re.search(r'data-plugin="idleplug".*?disabled', page, re.S)
        assert "Good report" in web.get("/admin/section/reports").get_data(as_text=True)
        result = app.test_cli_runner().invoke(args=["plugins", "list"])
        assert result.exit_code == 0
        assert re.search(r"brokenplug\s+failed\s+1\.2\.3", result.output)
        assert "error: RuntimeError: cannot reach the PBX" in result.output
        assert re.search(r"goodplug\s+enabled", result.output)
        assert re.search(r"idleplug\s+disabled", result.output)


def test_tests_never_autoload_installed_plugins(installed: Path, app: Flask) -> None:
    from portal.core.app_state import plugins

    assert all(info.state == "disabled" for info in plugins().infos.values())


def test_exerciser_implements_every_hookspec() -> None:
    implemented = {
        name for name in dir(exerciser) if hasattr(getattr(exerciser, name), "portal_impl")
    }
    assert implemented == set(HOOKSPECS)


def test_every_hookspec_is_documented() -> None:
    text = (PROJECT_ROOT / "docs" / "hooks.md").read_text()
    documented = set(re.findall(r"^### `(\w+)", text, re.M))
    assert documented == set(HOOKSPECS)


def _signature(spec: Any) -> str:
    signature = inspect.signature(spec)
    parameters = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{spec.__name__}({parameters}) -> {signature.return_annotation}"


def test_every_hook_is_documented_under_its_kind_with_its_signature() -> None:
    text = (PROJECT_ROOT / "docs" / "hooks.md").read_text()
    found: dict[str, tuple[str, str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = section.splitlines()[0]
        for name, line in re.findall(r"^### `(\w+).*\n\n(.*)", section, re.M):
            found[name] = (heading, line)
    assert set(found) == set(HOOKSPECS)
    for name in HOOKSPECS:
        kind = specs.HOOK_KINDS[name].value
        heading, line = found[name]
        assert heading == f"{kind.capitalize()} hooks", name
        assert line == f"{kind.capitalize()} hook: `{_signature(getattr(specs, name))}`", name


def _type_checking_names() -> dict[str, Any]:
    """What specs.py imports under ``TYPE_CHECKING``, imported for real."""
    tree = ast.parse(inspect.getsource(specs))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    names: dict[str, Any] = {}
    exec(compile(ast.Module(block.body, type_ignores=[]), specs.__file__, "exec"), names)
    return names


def test_hookspecs_name_their_types() -> None:
    namespace = {**vars(specs), **_type_checking_names()}
    for name in HOOKSPECS:
        spec = getattr(specs, name)
        assert specs.HOOK_KINDS[name] in set(specs.HookKind), name
        annotations = dict(spec.__annotations__)
        parameters = set(inspect.signature(spec).parameters)
        assert set(annotations) == parameters | {"return"}, f"{name} has an unannotated name"
        assert not any(re.search(r"\bAny\b", str(a)) for a in annotations.values()), name
        hints = typing.get_type_hints(spec, globalns=namespace)  # every name resolves
        assert set(hints) == set(annotations), name
    assert specs.HOOK_KINDS["resolve_tax_rate"] is specs.HookKind.DECISION
    assert specs.validate_order.portal_spec["firstresult"] is True
    assert specs.invoice_paid.portal_spec["firstresult"] is False


@pytest.fixture
def exercised(make_app):
    app: Flask = make_app(extra_plugins=(exerciser,))
    with app.app_context():
        yield app


def test_register_blueprints_and_admin_menu_items(exercised: Flask, staff_member) -> None:
    web = exercised.test_client()
    assert web.get("/admin/exerciser/").status_code == 302  # admin area: staff sign-in needed
    web.sign_in_staff(staff_member.email)
    assert web.get("/admin/exerciser/").get_data(as_text=True) == "exerciser admin page"
    menu = web.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/exerciser/"' in menu and "Exerciser tools" in menu


def test_register_client_area_panels(exercised: Flask, client_account) -> None:
    web = exercised.test_client()
    web.sign_in_client(client_account.email)
    page = web.get("/").get_data(as_text=True)
    assert f"<b>panel for {client_account.email}</b>" in page
    assert web.get("/exerciser/").get_data(as_text=True).endswith(client_account.email)


def test_register_cli_commands(exercised: Flask) -> None:
    result = exercised.test_cli_runner().invoke(args=["exerciser-hello"])
    assert result.output.strip() == "hello from the exerciser"


def test_plugin_blueprint_must_declare_its_area(make_app) -> None:
    from flask import Blueprint

    from portal import hookimpl

    class Careless:
        @hookimpl
        def register_blueprints(self):
            return [Blueprint("careless", __name__)]

    with pytest.raises(ValueError, match="must set portal_area"):
        make_app(extra_plugins=(Careless(),))


def test_an_api_blueprint_takes_posts_without_a_session_or_csrf_token(make_app) -> None:
    """Server-to-server endpoints (a PBX posting call records) authenticate themselves."""
    from flask import Blueprint, request

    from portal import hookimpl

    api = Blueprint("pbx_api", __name__, url_prefix="/pbx-api")
    api.portal_area = "api"

    @api.route("/ping", methods=["POST"])
    def ping() -> tuple[str, int]:
        ok = request.headers.get("Authorization") == "Bearer secret"
        return ("pong", 200) if ok else ("no", 401)

    class Pbx:
        @hookimpl
        def register_blueprints(self):
            return [api]

    app = make_app(extra_plugins=(Pbx(),))
    web = app.test_client()
    assert web.post("/pbx-api/ping", headers={"Authorization": "Bearer secret"}).status_code == 200
    assert web.post("/pbx-api/ping").status_code == 401  # the view's own check, not a redirect


def test_register_scheduled_jobs(exercised: Flask) -> None:
    from datetime import date

    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import run_job

    job = jobs()["exerciser.tick"]
    assert job.schedule == "*/10 * * * *"
    run = run_job(job.id, job.run, date(2026, 11, 2))
    assert run.counts["ticks"] >= 1 and exerciser.TICKS[-1] == date(2026, 11, 2)
    listed = exercised.test_cli_runner().invoke(args=["jobs", "list"]).output
    assert "exerciser.tick" in listed


class Broken:
    """Raises in every event it hears about, after writing something."""

    @hookimpl
    def invoice_created(self, invoice):
        from portal.accounts.models import Note
        from portal.core.app_state import clock
        from portal.core.extensions import db

        note = Note(client_id=invoice.client_id, body="broken plugin was here")
        note.created_at = clock().now()
        db.session.add(note)
        db.session.flush()
        raise RuntimeError("plugin bug")


def test_event_hooks_tell_every_plugin_and_a_failing_one_breaks_nothing(
    make_app, clock, caplog
) -> None:
    from datetime import date
    from decimal import Decimal

    from portal import billing
    from portal.accounts.models import Department, Note
    from portal.core.extensions import db
    from portal.invoicing import invoices, payments
    from portal.invoicing.models import Invoice, InvoiceStatus
    from portal.support import tickets
    from portal.testing.factories import make_client

    app = make_app(extra_plugins=(Broken(), exerciser))
    with app.app_context():
        exerciser.EVENTS.clear()
        client = make_client(clock)
        line = billing.charge_line("Услуга", Decimal("100.00"), "RUB")
        draft = invoices.create_draft(client, [(line, None)])
        invoices.issue_invoice(draft, today=date(2026, 11, 2))
        payments.record_payment(
            client,
            amount=Decimal("100.00"),
            method="bank",
            reference="п/п 1",
            payment_date=date(2026, 11, 2),
            invoices=[draft],
        )
        invoice = db.session.get(Invoice, draft.id)
        assert invoice.status is InvoiceStatus.PAID  # the operation went on
        assert db.session.query(Note).count() == 0  # the broken plugin's write was rolled back
        assert "plugin" in caplog.text and "invoice_created" in caplog.text
        names = [name for name, _value in exerciser.EVENTS]
        for event in ("invoice_created", "invoice_issued", "invoice_paid", "payment_received"):
            assert event in names
        department = Department(name="Техподдержка", email="support@portal.test")
        db.session.add(department)
        db.session.commit()
        ticket = tickets.open_ticket(
            subject="Не работает 1С", body="Помогите", department_id=department.id, client=client
        )
        tickets.client_reply(
            ticket, body="Ещё вопрос", author_name=client.full_name, author_email=client.email
        )
        assert ("ticket_opened", ticket.reference) in exerciser.EVENTS
        assert ("ticket_replied", (ticket.reference, "client")) in exerciser.EVENTS
        assert exerciser.EVENTS.count(("ticket_opened", ticket.reference)) == 1
