"""Running a program on this machine for a module (a quota tool, a panel's CLI), with a timeout
that ends everything the program started (docs/plugins.md, section 3.1).

``subprocess.run(timeout=...)`` kills only the program it started: a shell script's ``sleep`` or
a tool's helper lives on under PID 1, for ever if it hangs. Here the program is the leader of a
process group of its own, and a timeout (or the worker being interrupted) ends the whole group:
SIGTERM first, SIGKILL to whatever is left after a short grace.

Nothing of the database is held while the program runs: a transaction that only read is ended
first, and one that wrote is refused, since its row locks would stop the billing run and staff
for as long as the program takes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from flask import has_app_context

from portal.core import transactions

#: How long the group has after SIGTERM to end on its own before SIGKILL.
TERM_GRACE = 5.0
#: How long to wait for the group to be gone after SIGKILL.
KILL_WAIT = 2.0


def run_command(
    args: Sequence[str], *, timeout: float, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` (no shell) and return its exit code and output, as text.

    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds, once the program and every
    process it started are gone; ``FileNotFoundError`` when the program does not exist.
    """
    if has_app_context():
        transactions.end_read_transaction()
    process = subprocess.Popen(  # noqa: S603 - the caller's argument list, never a shell
        list(args),
        stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killpg reaches its children
    )
    try:
        stdout, stderr = process.communicate(input_text, timeout=timeout)
    except BaseException:  # the timeout, or the worker told to stop: leave nothing behind
        end_group(process)
        raise
    return subprocess.CompletedProcess(list(args), process.returncode, stdout, stderr)


def end_group(process: subprocess.Popen[str], grace: float = TERM_GRACE) -> None:
    """SIGTERM the process group of ``process``, SIGKILL what is left after ``grace`` seconds
    (or as soon as the group is empty), and reap the leader."""
    group = process.pid  # the leader of its own session: the group id is its pid
    _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(group, process):
        time.sleep(0.05)
    _signal_group(group, signal.SIGKILL)
    process.communicate()  # reaps the leader and closes the pipes
    # SIGKILL is delivered asynchronously: give the rest of the group a moment to be gone, so
    # that the caller never sees a helper still running (its zombie may outlive this, if PID 1
    # is slow to reap it, hence the bound).
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline and _group_alive(group, process):
        time.sleep(0.02)


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group has ended already
        os.killpg(group, signum)


def _group_alive(group: int, process: subprocess.Popen[str]) -> bool:
    """Whether a process of the group still runs. The leader, once it exits, is a zombie until
    reaped (and still counts for ``killpg``): reap it, then ask about the rest. Where /proc
    tells, a zombie helper left to PID 1 to reap does not count either: it runs nothing."""
    process.poll()
    proc = Path("/proc")
    if proc.is_dir():
        return any(_running_in(group, stat) for stat in proc.glob("[0-9]*/stat"))
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _running_in(group: int, stat: Path) -> bool:
    """Whether the process ``stat`` describes belongs to ``group`` and is not a zombie."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False  # gone meanwhile
    state, process_group = fields[0], int(fields[2])
    return process_group == group and state not in ("Z", "X")
