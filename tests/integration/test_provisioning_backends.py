"""The provisioning backends plugins share (portal/orders/provisioning_backends.py, exported by
``portal.plugin_api``): a real program's exit codes, stderr and timeout; the command line a
command becomes; a real HTTP server on loopback receiving JSON with the token; the usual ticket
text; the settings form's checks. The ticket backend's waiting is proven by the plugins that use
it (onec, diskspace, telephony)."""

from __future__ import annotations

import json
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from portal.plugin_api import (
    BackendCommand,
    BackendSettingsForm,
    CommandBackend,
    HttpBackend,
    ProvisioningError,
    TicketBackend,
    provisioning_backend,
    run_program,
)

SERVICE = SimpleNamespace(id=7, product=SimpleNamespace(name="ВАТС «Отдел»"))


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tool.sh"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_run_program_returns_stdout_or_a_message_for_staff(app, tmp_path) -> None:
    ok = _script(tmp_path, 'echo "done $1"\n')
    assert run_program([str(ok), "x"], timeout=5) == "done x\n"
    failing = _script(tmp_path, 'echo "no such extension" >&2; exit 3\n')
    with pytest.raises(ProvisioningError, match="exited with 3: no such extension"):
        run_program([str(failing)], timeout=5)
    with pytest.raises(ProvisioningError, match="was not found"):
        run_program([str(tmp_path / "missing")], timeout=5)
    hanging = _script(tmp_path, "sleep 30\n")
    with pytest.raises(ProvisioningError, match="did not finish in 1 s"):
        run_program([str(hanging)], timeout=1)


def test_the_command_backend_gives_each_value_its_own_argument(app, tmp_path) -> None:
    log = tmp_path / "args.log"
    tool = _script(tmp_path, f'for a in "$@"; do echo "$a" >> {log}; done\n')
    backend = CommandBackend({"command": f"{tool} --verbose"}, settings_name="Hello")
    backend.apply(1, SERVICE, [BackendCommand("greet", {"name": "Иванов; rm -rf /"})])
    assert log.read_text().splitlines() == [
        "--verbose",
        "greet",
        "--name=Иванов; rm -rf /",
        "--service_id=7",
    ]
    with pytest.raises(ProvisioningError, match="No program is set in the Hello settings"):
        CommandBackend({"command": ""}, settings_name="Hello").apply(1, SERVICE, [])


def test_the_http_backend_posts_json_with_the_token(app) -> None:
    received: list[tuple[str, dict[str, Any]]] = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            received.append((self.headers["Authorization"], json.loads(self.rfile.read(size))))
            self.send_response(status["code"])
            self.end_headers()
            self.wfile.write(b"locked")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        backend = HttpBackend({"url": url, "token": "t0k"}, settings_name="Hello")
        backend.apply(5, SERVICE, [BackendCommand("greet", {"name": "Иванов"})])
        assert received == [
            ("Bearer t0k", {"command": "greet", "service_id": 7, "task_id": 5, "name": "Иванов"})
        ]
        status["code"] = 423
        with pytest.raises(ProvisioningError, match="answered 423 to greet: locked"):
            backend.apply(6, SERVICE, [BackendCommand("greet")])
    finally:
        server.shutdown()
        server.server_close()


def test_the_backend_the_settings_name_and_the_usual_ticket(app) -> None:
    def describe(command: BackendCommand) -> str:
        return f"Greet {command.values['name']}."

    config = {"backend": "ticket", "department": ""}
    backend = provisioning_backend(
        config, settings_name="Hello", requests=object, describe=describe
    )
    assert isinstance(backend, TicketBackend)
    one = backend.text(SERVICE, [BackendCommand("greet", {"name": "Иванов"})])
    assert one[0] == "Hello: Greet Иванов"
    assert one[1].startswith("- Greet Иванов.\n")
    two = backend.text(SERVICE, [BackendCommand("greet", {"name": n}) for n in ("А", "Б")])
    assert two[0] == "Hello: 2 commands for service #7"
    assert "ВАТС «Отдел»" in two[1]
    for name, kind in (("command", CommandBackend), ("http", HttpBackend)):
        made = provisioning_backend({"backend": name}, settings_name="Hello", requests=object)
        assert isinstance(made, kind)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"backend": "command", "command": "", "timeout": "30"}, "command"),
        ({"backend": "command", "command": "a 'b", "timeout": "30"}, "command"),
        ({"backend": "http", "url": "", "timeout": "30"}, "url"),
        ({"backend": "http", "url": "not a url", "timeout": "30"}, "url"),
        ({"backend": "ticket", "department": "", "timeout": "30"}, "department"),
        ({"backend": "command", "command": "pbxctl", "timeout": "0"}, "timeout"),
    ],
)
def test_the_settings_form_refuses_what_cannot_work(app, values, field) -> None:
    with app.test_request_context(method="POST"):
        form = BackendSettingsForm(formdata=MultiDict(values), meta={"csrf": False})
        assert not form.validate()
        assert field in form.errors


def test_the_settings_form_takes_a_program(app) -> None:
    with app.test_request_context(method="POST"):
        values = {"backend": "command", "command": "/opt/pbx/pbxctl -v", "timeout": "30"}
        values["department"] = ""  # no ticket backend: no department needed
        form = BackendSettingsForm(formdata=MultiDict(values), meta={"csrf": False})
        assert form.validate(), form.errors
