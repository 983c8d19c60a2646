"""The plugin's tests run in their own pytest session: every test app enables the plugin by its
entry point name (as an operator would), so the test database is built by the core's
migrations and the plugin's Alembic branch.

Shared here: the plugin's demo catalogue (plans «Отдел» and «Офис» with seats, a SIP trunk,
add-ons per plan), a tax-exempt client, a small number pool, and a stand-in for the PBX — a
real program that logs its arguments and a real HTTP server on loopback that logs what it is
POSTed."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from portal_telephony import demo, numbers
from portal_telephony.settings import PLUGIN

from portal.plugin_api import (
    Client,
    DemoOption,
    DemoProduct,
    Product,
    ProductType,
    add_demo_products,
    add_demo_service,
    session,
)
from portal.testing.factories import make_client

POOL = ("74957001000..74957001019", "74957777777", "74957002233")


@pytest.fixture(scope="session")
def portal_settings(portal_settings: dict[str, Any]) -> dict[str, Any]:
    return {**portal_settings, "plugins": ["telephony"]}


def set_day(clock: Any, day: date) -> None:
    """Move the clock to 09:00 UTC of ``day`` (12:00 in Moscow: the same business date)."""
    clock.set(datetime.combine(day, time(9), tzinfo=UTC))


@pytest.fixture
def catalogue(app) -> dict[str, Product]:
    products = add_demo_products(demo.GROUP, demo.CATALOGUE)
    session().commit()
    return products


#: «Отдел» billed quarterly: 6 000 a quarter + 900 a seat beyond the 6 included.
QUARTERLY = "ВАТС «Отдел», поквартально"


@pytest.fixture
def quarterly(app) -> Product:
    """A PBX plan sold only quarterly (its months, its numbers' fees: README, "Included
    minutes" and "How numbers are billed")."""
    seats = DemoOption("Дополнительные пользователи", "польз.", {"quarterly": "900.00"}, minimum=0)
    product = DemoProduct(
        QUARTERLY,
        ProductType.USAGE,
        PLUGIN,
        {"quarterly": "6000.00"},
        option=seats,
        plugin_fields={PLUGIN: {"kind": "plan", "included_seats": 6}},
    )
    found = add_demo_products(demo.GROUP, [product])[QUARTERLY]
    session().commit()
    return found


@pytest.fixture
def customer(app, clock) -> Client:
    """A tax-exempt client (totals are prices), Russian-speaking."""
    client = make_client(clock, email="office@example.com", language="ru")
    client.tax_exempt = True
    session().commit()
    return client


@pytest.fixture
def pool(app, clock) -> dict[str, int]:
    """The number pool: ids by number."""
    numbers.import_numbers(POOL, actor="test")
    return {n.number: n.id for n in numbers.search(state=None, limit=None)}


@pytest.fixture
def plan(customer, catalogue, clock):
    """«Отдел» (6 seats included) with 2 more — 8 extensions — from 1 March 2026; the clock
    on 2 March."""
    set_day(clock, date(2026, 3, 2))
    product = catalogue[demo.DEPARTMENT]
    service = add_demo_service(
        customer,
        product,
        cycle="monthly",
        start=date(2026, 3, 1),
        quantities={product.options[0].id: 2},
    )
    session().commit()
    return service


class Pbx:
    """The PBX's command-line tool: a real script that appends its arguments to a log (one line
    per run) and exits 3 for the commands listed in ``refuse``."""

    def __init__(self, root: Path) -> None:
        self.log = root / "pbx.log"
        self.refuse_file = root / "refuse"
        self.path = root / "pbxctl"
        self.path.write_text(
            "#!/bin/sh\n"
            f'if [ -f {self.refuse_file} ] && grep -qx "$1" {self.refuse_file}; then\n'
            '  echo "pbxctl: $1 refused" >&2; exit 3\nfi\n'
            f'printf "%s\\n" "$*" >> {self.log}\n'
        )
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def refuse(self, *commands: str) -> None:
        self.refuse_file.write_text("".join(f"{c}\n" for c in commands))


@pytest.fixture
def pbx(tmp_path: Path) -> Pbx:
    return Pbx(tmp_path)


class PbxApi:
    """The PBX's HTTP API on loopback: keeps (token, JSON body) of each POST, answers
    ``status``."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                api.bodies.append(
                    (self.headers.get("Authorization", ""), json.loads(self.rfile.read(size)))
                )
                self.send_response(api.status)
                self.end_headers()
                self.wfile.write(b"{}" if api.status < 300 else b"extension exists badly")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pbx"

    def commands(self) -> list[str]:
        return [body["command"] for _token, body in self.bodies]


@pytest.fixture
def pbx_api() -> Iterator[PbxApi]:
    api = PbxApi()
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()
