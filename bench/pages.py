"""Load benchmark of the main pages of both areas, each next to the floor page (GET /login).

Usage: ``python bench/pages.py [--reseed] [--duration 10] [--concurrency 8,32] [--only a,b]
[--loadgen wrk|python] [--seed-only]`` (``make bench-pages``; BENCH_PAGES_ARGS="..."). PostgreSQL
only, not run by ``make test`` or ``make bench``; nothing is asserted.

Data: ``bench/large_data.py``'s 100 000 clients and 1 000 000 invoices (a line each, a payment per
paid one) in the database ``portal_bench_pages`` (its own, not ``portal_bench_reports``: the
bench signs in and the scheduler runs, which write rows, and the extra rows below would change
the reports' figures), plus the demo data (``portal demo``'s staff administrator and client with
their known passwords), 2 000 invoices of that client, 40 of the tickets and a service of each
bulk product moved to it, and an INN for every client with a company. The database is kept
between runs and rebuilt when ``SEED_VERSION`` or the migrations change (8 minutes on this
machine under load; a second run starts measuring at once).

Server: gunicorn as ``make run`` starts it (2 sync workers, ``gunicorn.conf.py`` of the
checkout, ``PORTAL_EMBEDDED_SCHEDULER=1``, the ``onec`` plugin, rate limits in Redis), on a free
port of 127.0.0.1. Two differences, both for a stable data set: the daily jobs are switched off
(``job_schedules``; the billing run at 03:00 Moscow time would bill the seeded services
mid-run), the per-minute ones stay; and the rate-limit keys get a prefix of their own per run
(``ratelimit_key_prefix``), so repeated runs never meet the sign-in limits and nobody's Redis
data is flushed. The access log goes to /dev/null.

Load: ``wrk`` (``apt-get install wrk``; one thread, keep-alive is refused by the sync workers so
each request is a new connection, as for the Python generator) for a fixed duration per page
and concurrency; ``--loadgen python`` uses threads with ``http.client`` instead (costlier per
request: on 2 cores the generator takes CPU from gunicorn; docs/development.md, "Benchmarks",
has both measured). The floor is measured again before every few pages and
each page is compared with the floor measured just before it: the machine is shared, so only
ratios within one run mean something.

Queries per page: the same URL through the Flask test client of an app on the same database
with an SQLAlchemy ``before_cursor_execute`` listener (second request, warm caches). Targets
(issue #17): req/s >= 0.7x the floor, p99 <= 2x the floor's, the floor >= 600 req/s; a page
that misses one is flagged.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import large_data  # noqa: E402  (bench/, next to this file)

DATABASE = "portal_bench_pages"
#: Change when ``seed_extra`` changes: the kept database is then built again.
SEED_VERSION = "bench-pages 1"
BIG_CLIENT_INVOICES = 2_000
PLUGINS = "onec"  # RUN_PLUGINS of the Makefile
FLOOR = "/login"
#: The floor is measured again before every this many pages.
FLOOR_EVERY = 4
#: ``company`` clients get ``INN_BASE + id`` as INN; the INN query looks one up.
INN_BASE = 7_700_000_000
SEARCHED = 54_321  # a client with a company (id divisible by 3)
TARGET_RATIO, TARGET_P99, TARGET_FLOOR = 0.7, 2.0, 600.0


# --- data ----------------------------------------------------------------------------------------


def seed_extra() -> None:
    """The demo accounts with known passwords, the client's 2 000 invoices, tickets, services;
    INNs for the companies (the search's INN query)."""
    from sqlalchemy import select, text

    from portal.accounts.models import Client
    from portal.core.app_state import clock
    from portal.core.extensions import db
    from portal.platform.demo import DEMO_CLIENT, load_demo_data

    load_demo_data(clock())
    client_id = db.session.scalar(select(Client.id).where(Client.email == DEMO_CLIENT[0]))
    payments = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM payment"))
    large_data.seed_invoices(BIG_CLIENT_INVOICES, str(client_id), "C-")
    large_data.seed_allocations(after=payments)
    moved = {
        "ticket": "SELECT id FROM ticket ORDER BY id LIMIT 40",
        # one per product: a client has a product once
        "service": "SELECT min(id) FROM service WHERE product_id NOT IN "
        "(SELECT product_id FROM service WHERE client_id = :client) GROUP BY product_id",
    }
    for table, ids in moved.items():
        db.session.execute(
            text(f"UPDATE {table} SET client_id = :client WHERE id IN ({ids})"),
            {"client": client_id},
        )
    db.session.execute(text(f"UPDATE client SET inn = ({INN_BASE} + id)::text WHERE company <> ''"))


def prepare(reseed: bool, clients: int) -> tuple[str, dict[str, int]]:
    """The database URL, and the ids the pages need (the demo client, one of its invoices)."""
    from sqlalchemy import select

    from portal.accounts.models import Client
    from portal.core.app import create_app
    from portal.core.extensions import db
    from portal.invoicing.models import Invoice, InvoiceStatus
    from portal.platform.demo import DEMO_CLIENT

    tmp = tempfile.mkdtemp(prefix="bench-pages-")
    urls: list[str] = []

    def app_factory(url: str) -> Any:
        urls.append(url)
        settings = {"database_url": url, "secret_key": "bench", "plugins": [PLUGINS]}
        return create_app(settings, instance_path=tmp)  # its migrations: the plugin's too

    app = large_data.prepare(
        DATABASE, app_factory, clients=clients, reseed=reseed, version=SEED_VERSION,
        extra=seed_extra,
    )  # fmt: skip
    with app.app_context():
        client_id = db.session.scalar(select(Client.id).where(Client.email == DEMO_CLIENT[0]))
        invoice_id = db.session.scalar(
            select(Invoice.id)
            .where(Invoice.client_id == client_id, Invoice.status == InvoiceStatus.UNPAID)
            .order_by(Invoice.id.desc())
            .limit(1)
        )
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return urls[-1], {"client": client_id, "invoice": invoice_id}


def pages(ids: dict[str, int]) -> list[tuple[str, str, str]]:
    """(name, who, URL) of every measured page; ``who`` is client or staff."""
    name_query = urllib.parse.quote(f"№{SEARCHED}")
    return [
        ("client dashboard", "client", "/"),
        ("client invoices (2 000)", "client", "/invoices"),
        ("client invoice", "client", f"/invoices/{ids['invoice']}"),
        ("client documents", "client", "/documents"),
        ("client transactions", "client", "/transactions"),
        ("client tickets", "client", "/tickets"),
        ("client services", "client", "/services"),
        ("admin dashboard", "staff", "/admin/"),
        ("admin clients", "staff", "/admin/clients"),
        ("admin search: name", "staff", f"/admin/clients?q={name_query}"),
        ("admin search: INN", "staff", f"/admin/clients?q={INN_BASE + SEARCHED}"),
        ("admin client card", "staff", f"/admin/clients/{ids['client']}"),
        ("admin invoices", "staff", "/admin/billing/invoices"),
        ("admin invoices deep", "staff", "deep:/admin/billing/invoices"),
        ("admin payments", "staff", "/admin/billing/payments"),
        ("admin tickets", "staff", "/admin/support"),
    ]


# --- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _daily_jobs_off(url: str) -> str:
    """``job_schedules`` with every job that does not run at least hourly switched off."""
    from portal.core.app import create_app
    from portal.platform.jobs.registry import jobs

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"database_url": url, "secret_key": "bench", "plugins": [PLUGINS]}, instance_path=tmp
        )
        with app.app_context():
            found = jobs()
    return json.dumps({j.id: "" for j in found.values() if j.schedule.split()[1:2] != ["*"]})


def server_env(url: str, instance: str) -> dict[str, str]:
    redis_url = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    return {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_INSTANCE_PATH": instance,
        "PORTAL_SECRET_KEY": "bench-pages",
        "PORTAL_SESSION_COOKIE_SECURE": "0",
        "PORTAL_EMBEDDED_SCHEDULER": "1",
        "PORTAL_PLUGINS": PLUGINS,
        "PORTAL_REDIS_URL": redis_url,
        "PORTAL_RATELIMIT_STORAGE_URI": redis_url,
        "PORTAL_RATELIMIT_KEY_PREFIX": f"bench-pages-{os.getpid()}-{int(time.time())}",
        "PORTAL_JOB_SCHEDULES": _daily_jobs_off(url),
    }


def start_server(env: dict[str, str], port: int, checkout: Path) -> subprocess.Popen[bytes]:
    """gunicorn as ``make run`` starts it, on the code of ``checkout`` (its ``gunicorn.conf.py``
    is read from there too)."""
    env = {**env, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--access-logfile", "-", "wsgi:app"]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=checkout, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{FLOOR}", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # the 302 is raised as an HTTPError, its cookies already in the jar


def sign_in(base: str, path: str, email: str, password: str) -> str:
    """The Cookie header of a session signed in through the form at ``path``."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    html = opener.open(base + path).read().decode()
    match = _TOKEN.search(html)
    if match is None:
        raise RuntimeError(f"no CSRF token on {path}")
    form = {"email": email, "password": password, "csrf_token": match.group(1) or match.group(2)}
    try:
        opener.open(base + path, urllib.parse.urlencode(form).encode())
    except urllib.error.HTTPError as error:  # 302: signed in; the form again (200) is a failure
        if error.code != 302:
            raise
    else:
        raise RuntimeError(f"sign-in at {path} as {email} failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def deep_url(base: str, cookie: str, path: str) -> str:
    """Page ~4 000 of a list: its "last" link if the page offers one (cursor pagination),
    else ``?page=4000``."""
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    html = urllib.request.urlopen(request).read().decode()
    last = re.search(r'<a[^>]*rel="last"[^>]*href="([^"]+)"|<a[^>]*href="([^"]+)"[^>]*rel="last"',
                     html)  # fmt: skip
    if last:
        return (last.group(1) or last.group(2)).replace("&amp;", "&")
    return f"{path}?page=4000"


# --- load ----------------------------------------------------------------------------------------


@dataclass
class Result:
    rps: float
    p50: float  # ms
    p99: float  # ms
    errors: int  # non-2xx responses and timeouts


def _ms(value: str) -> float:
    """wrk's "1.23ms", "4.56s"; NaN when no request was answered ("-nan")."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        return float("nan")
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[match.group(2)]
    return float(match.group(1)) * unit


def run_wrk(url: str, cookie: str, concurrency: int, duration: float) -> Result:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{duration:g}s", "--latency",
               "--timeout", "30s", url]  # fmt: skip
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    nan = float("nan")  # the latency distribution's lines only: "73.50%" is a deviation's share
    p50, p99 = (
        _ms(found.group(1)) if (found := re.search(rf"^\s+{n}%\s+(\S+)", out, re.M)) else nan
        for n in (50, 99)
    )
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    # Read errors are the connections wrk itself cut at the end of the run: not the server's.
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)
    errors += int(timeouts.group(1)) if timeouts else 0
    return Result(rps, p50, p99, errors)


def run_python(url: str, cookie: str, concurrency: int, duration: float) -> Result:
    """``concurrency`` threads, each a connection (kept alive when the server allows it)
    sending GETs until ``duration`` is over."""
    parsed = urllib.parse.urlsplit(url)
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    headers = {"Cookie": cookie} if cookie else {}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    stop = time.perf_counter() + duration

    def worker(n: int) -> None:
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        while (started := time.perf_counter()) < stop:
            try:
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    errors[n] += 1
                if response.will_close:
                    connection.close()
            except OSError:
                errors[n] += 1
                connection.close()
            latencies[n].append(time.perf_counter() - started)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(t for per_thread in latencies for t in per_thread)
    if not every:
        return Result(0.0, 0.0, 0.0, sum(errors))
    return Result(
        len(every) / elapsed,
        every[len(every) // 2] * 1000,
        every[min(len(every) - 1, int(len(every) * 0.99))] * 1000,
        sum(errors),
    )


def drain(base: str, quick: float = 0.5, patience: float = 30.0) -> bool:
    """Wait until both workers are free: the requests a slow page left queued are still being
    served after the load generator stopped and would slow down the next measurement. Free is
    two requests at once, each answered within ``quick`` seconds; False if that did not happen
    within ``patience`` seconds (the caller restarts the server)."""
    deadline = time.monotonic() + patience
    times = [0.0, 0.0]

    def one(n: int) -> None:
        started = time.perf_counter()
        with contextlib.suppress(OSError):
            urllib.request.urlopen(base + FLOOR, timeout=patience).read()
        times[n] = time.perf_counter() - started

    while time.monotonic() < deadline:
        threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if max(times) < quick:
            return True
        time.sleep(0.5)
    return False


# --- queries per page ----------------------------------------------------------------------------


def count_queries(url: str, urls: list[tuple[str, str, str]]) -> dict[str, int]:
    """Queries each page runs: the second of two requests through the Flask test client."""
    from sqlalchemy import event

    from portal.core.app import create_app
    from portal.core.extensions import db
    from portal.platform.demo import DEMO_CLIENT, DEMO_STAFF
    from portal.testing.web import WebClient

    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"database_url": url, "secret_key": "bench", "plugins": [PLUGINS],
             "session_cookie_secure": False},
            instance_path=tmp,
        )  # fmt: skip
        app.test_client_class = WebClient
        with app.app_context():
            web = {"client": app.test_client(), "staff": app.test_client(), "": app.test_client()}
            web["client"].sign_in_client(DEMO_CLIENT[0], DEMO_CLIENT[1])
            web["staff"].sign_in_staff(DEMO_STAFF[0], DEMO_STAFF[1])
            seen = [0]

            def before(*_args: Any) -> None:
                seen[0] += 1

            event.listen(db.engine, "before_cursor_execute", before)
            try:
                for name, who, path in urls:
                    web[who].get(path)
                    seen[0] = 0
                    web[who].get(path)
                    counts[name] = seen[0]
            finally:
                event.remove(db.engine, "before_cursor_execute", before)
            db.session.remove()
            db.engine.dispose()
    return counts


# --- the run -------------------------------------------------------------------------------------


def _flags(result: Result, floor: Result) -> str:
    flags = []
    if result.rps < TARGET_RATIO * floor.rps:
        flags.append("req/s")
    if result.p99 > TARGET_P99 * floor.p99:
        flags.append("p99")
    if result.errors:
        flags.append(f"{result.errors} errors")
    return ", ".join(flags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true", help="build the kept database again")
    parser.add_argument("--clients", type=int, default=large_data.CLIENTS, help="scales the seed")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--concurrency", default="8,32", help="comma-separated connection counts")
    parser.add_argument(
        "--only", default="", help="comma-separated words: pages whose name has one"
    )
    parser.add_argument("--loadgen", choices=("wrk", "python"), default="wrk")
    parser.add_argument("--seed-only", action="store_true", help="prepare the database and stop")
    parser.add_argument("--floor-only", action="store_true", help="measure GET /login alone")
    parser.add_argument(
        "--checkout", type=Path, default=ROOT, help="serve this checkout's code (e.g. main's)"
    )
    args = parser.parse_args()
    os.environ["PORTAL_TEST_DATABASE"] = "postgres"
    if args.loadgen == "wrk" and shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk), or use --loadgen python")

    started = time.perf_counter()
    url, ids = prepare(args.reseed, args.clients)
    print(f"database ready in {time.perf_counter() - started:.0f} s")
    if args.seed_only:
        return
    chosen = [
        p for p in pages(ids) if not args.only or any(w in p[0] for w in args.only.split(","))
    ]
    if args.floor_only:
        chosen = []

    from portal.platform.demo import DEMO_CLIENT, DEMO_STAFF

    load = run_wrk if args.loadgen == "wrk" else run_python
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as instance:
        env = server_env(url, instance)
        servers = [start_server(env, port, args.checkout)]

        def settle() -> None:
            """Drained, or a fresh server (the sessions are signed cookies: still valid)."""
            if not drain(base):
                os.killpg(servers[-1].pid, signal.SIGKILL)  # the workers too: they hold the port
                servers[-1].wait(30)
                servers.append(start_server(env, port, args.checkout))

        try:
            cookies = {
                "client": sign_in(base, "/login", *DEMO_CLIENT),
                "staff": sign_in(base, "/admin/login", *DEMO_STAFF),
            }
            resolved = [
                (name, who, deep_url(base, cookies[who], path[5:]) if path.startswith("deep:")
                 else path)
                for name, who, path in chosen
            ]  # fmt: skip
            for name, _who, path in resolved:
                if name.endswith("deep"):
                    print(f"{name}: {path}")
            queries = count_queries(url, [("floor GET /login", "", FLOOR), *resolved])
            print(f"code: {args.checkout}; load: {args.loadgen}, {args.duration:g} s per page "
                  f"and concurrency, gunicorn 2 sync workers, {os.cpu_count()} cores, "
                  f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                print(f"\nconcurrency {concurrency}")
                print(f"{'page':<26} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'x floor':>7} "
                      f"{'p99 x':>6} {'SQL':>4}  misses")  # fmt: skip
                floor = Result(0, 0, 0, 0)
                for n, (name, who, path) in enumerate([("", "", ""), *resolved]):
                    if n % FLOOR_EVERY == 0 or not path:
                        settle()
                        floor = load(base + FLOOR, "", concurrency, args.duration)
                        miss = "floor < 600 req/s" if floor.rps < TARGET_FLOOR else ""
                        if floor.errors:
                            miss += f" {floor.errors} errors"
                        print(f"{'floor GET /login':<26} {floor.rps:7.0f} {floor.p50:8.1f} "
                              f"{floor.p99:8.1f} {'':>7} {'':>6} "
                              f"{queries['floor GET /login']:4d}  {miss}", flush=True)  # fmt: skip
                    if not path:
                        continue
                    settle()
                    result = load(base + path, cookies[who], concurrency, args.duration)
                    ratio = result.rps / floor.rps if floor.rps else 0.0
                    p99_ratio = result.p99 / floor.p99 if floor.p99 else 0.0
                    print(f"{name:<26} {result.rps:7.0f} {result.p50:8.1f} {result.p99:8.1f} "
                          f"{ratio:7.2f} {p99_ratio:6.1f} "
                          f"{queries[name]:4d}  {_flags(result, floor)}", flush=True)  # fmt: skip
        finally:
            servers[-1].terminate()
            servers[-1].wait(30)


if __name__ == "__main__":
    main()
