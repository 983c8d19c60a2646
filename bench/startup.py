"""Start-up time of the ``portal`` command and of ``create_app()``.

Usage: python bench/startup.py [RUNS]   (default 5)

Prints the median wall time of ``portal --help`` and ``portal plugins list``, each a new process
as a shell runs it (the target is under 1.5 s), and the time a fresh interpreter spends importing
``portal.core.app`` and in ``create_app()``, measured inside it. Uses the ``portal`` script next
to this interpreter, with this checkout first on ``PYTHONPATH``, against a temporary instance
folder migrated first. Asserts nothing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What the console script runs (setup.cfg: portal = portal.core.cli:main).
ENTRY = "from portal.core.cli import main"
APP = """
import json, time
started = time.perf_counter()
from portal.core.app import create_app
imported = time.perf_counter()
create_app()
print(json.dumps([imported - started, time.perf_counter() - imported]))
"""


def portal_command() -> list[str]:
    """The virtualenv's ``portal`` script; the same entry point through the interpreter when the
    script is missing or was installed before the entry point moved (re-run ``make install``)."""
    script = Path(sys.executable).with_name("portal")
    if script.is_file() and ENTRY in script.read_text():
        return [str(script)]
    print(f"note: {script} is missing or out of date; timing `python -c` with its entry point")
    return [sys.executable, "-c", f"import sys; {ENTRY}; sys.exit(main())"]


def wall(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall times of ``runs`` runs of ``args``, after one untimed run (bytecode caches)."""
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
        if attempt:
            times.append(time.perf_counter() - started)
    return times


def line(label: str, times: list[float]) -> str:
    return (
        f"{label:<34} median {statistics.median(times):6.2f} s"
        f"   (min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)"
    )


def main(runs: int) -> None:
    portal = portal_command()
    with tempfile.TemporaryDirectory() as tmp:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env |= {"PYTHONPATH": str(ROOT), "PORTAL_INSTANCE_PATH": tmp}
        subprocess.run([*portal, "db", "upgrade"], env=env, check=True, capture_output=True)
        for args in (["--help"], ["plugins", "list"]):
            print(line(f"portal {' '.join(args)}", wall([*portal, *args], env, runs)))
        measured = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", APP], env=env, check=True, capture_output=True
                ).stdout
            )
            for _ in range(runs)
        ]
        print(line("import portal.core.app (in-process)", [m[0] for m in measured]))
        print(line("create_app() (in-process)", [m[1] for m in measured]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
