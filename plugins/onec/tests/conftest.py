"""The plugin's tests run in their own pytest session: every test app enables the plugin by its
entry point name (as an operator would), so the test database is built by the core's
migrations and the plugin's Alembic branch.

Shared here: the 1C catalogue of the plugin's demo (tariffs, a base, licences of two lines),
a client with a primary organisation, and a stand-in for the cloud — a real script that logs
its arguments, and a real HTTP server on loopback that logs what it is POSTed."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from portal_onec import demo
from portal_onec.organisations import add_organisation

from portal.plugin_api import Client, Product, add_demo_products, session
from portal.testing.factories import make_client


@pytest.fixture(scope="session")
def portal_settings(portal_settings: dict[str, Any]) -> dict[str, Any]:
    return {**portal_settings, "plugins": ["onec"]}


@pytest.fixture
def catalogue(app) -> dict[str, Product]:
    products = add_demo_products(demo.GROUP, demo.CATALOGUE)
    session().commit()
    return products


@pytest.fixture
def customer(app, clock) -> Client:
    """A tax-exempt client (totals are prices) with its primary organisation."""
    client = make_client(clock, email="buh@example.com", language="ru")
    client.tax_exempt = True
    session().commit()
    add_organisation(client, name="ООО «Ромашка»", inn="7701234560", kpp="770101001")
    return client


class Script:
    """The cloud's command-line tool: a real script that appends its arguments to a log (one
    line per run) and fails when the first argument is in ``fail``."""

    def __init__(self, root: Path) -> None:
        self.log = root / "calls.log"
        self.path = root / "onecctl.sh"
        self.path.write_text(
            "#!/bin/sh\n"
            f'if [ -f {root}/fail ] && grep -qx "$1" {root}/fail; then\n'
            '  echo "onecctl: $1 refused" >&2; exit 4\nfi\n'
            f'printf "%s\\n" "$*" >> {self.log}\n'
        )
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)
        self.fail_file = root / "fail"

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def fail(self, *commands: str) -> None:
        self.fail_file.write_text("".join(f"{c}\n" for c in commands))


@pytest.fixture
def script(tmp_path: Path) -> Script:
    return Script(tmp_path)


class Cloud:
    """The cloud's HTTP endpoint on loopback: records (headers, JSON body) of each POST and
    answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 200
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode())
                cloud.received.append((dict(self.headers), body))
                self.send_response(cloud.status)
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if cloud.status < 300 else b"base is locked")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/commands"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def commands(self) -> list[str]:
        return [body["command"] for _headers, body in self.received]


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    server = Cloud()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
