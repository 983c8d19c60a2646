"""In-process timing and profile of single pages on the ``bench/pages.py`` database.

Usage: ``python bench/page_profile.py [--repeat 5] [--profile PATH] [--top 30] [PATH ...]``
(default: the pages of issue #17's in-process profile). Each page is requested through the Flask
test client of an app on ``portal_bench_pages`` (seed it first with ``bench/pages.py
--seed-only``): once to warm caches, then ``--repeat`` times; prints the median wall time, the
Python time (wall minus time inside the database driver), the least CPU time of this process
(steadier than wall time on a loaded machine) and the queries. ``--profile`` runs
cProfile over one path and prints the ``--top`` functions by cumulative time. The machine is
shared: compare pages measured in the same run, not figures taken minutes apart.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import large_data  # noqa: E402  (bench/, next to this file)
import pages  # noqa: E402

DEFAULT = [
    "client:/",
    "client:/documents",
    "client:/invoices",
    "staff:/admin/",
    "staff:/admin/clients",
    "staff:/admin/clients/{client}",
    "staff:/admin/support",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="who:path, who = client|staff")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", help="who:path to profile with cProfile")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--slow", type=float, help="print the queries slower than this many ms")
    args = parser.parse_args()

    from sqlalchemy import event, select

    from portal.accounts.models import Client
    from portal.core.app import create_app
    from portal.core.extensions import db
    from portal.platform.demo import DEMO_CLIENT, DEMO_STAFF
    from portal.testing.web import WebClient

    url = large_data._server().set(database=pages.DATABASE).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_DATABASE_URL", url)
        app = create_app(
            {"database_url": url, "secret_key": "bench", "plugins": [pages.PLUGINS],
             "session_cookie_secure": False},
            instance_path=tmp,
        )  # fmt: skip
        app.test_client_class = WebClient
        with app.app_context():
            client_id = db.session.scalar(select(Client.id).where(Client.email == DEMO_CLIENT[0]))
            web = {"client": app.test_client(), "staff": app.test_client()}
            web["client"].sign_in_client(DEMO_CLIENT[0], DEMO_CLIENT[1])
            web["staff"].sign_in_staff(DEMO_STAFF[0], DEMO_STAFF[1])
            in_db = [0.0, 0]
            started: list[float] = []

            def before(*_a: Any) -> None:
                started.append(time.perf_counter())

            def after(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
                took = time.perf_counter() - started.pop()
                in_db[0] += took
                if args.slow is not None and took * 1000 > args.slow:
                    print(f"  {took * 1000:6.1f} ms  {' '.join(statement.split())[:600]}"
                          f"  {parameters}")  # fmt: skip
                in_db[1] += 1

            event.listen(db.engine, "before_cursor_execute", before)
            event.listen(db.engine, "after_cursor_execute", after)
            targets = [args.profile] if args.profile else (args.paths or DEFAULT)
            for target in targets:
                who, path = target.split(":", 1)
                path = path.format(client=client_id)
                assert web[who].get(path).status_code == 200, path
                if args.profile:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for _ in range(args.repeat):
                        web[who].get(path)
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
                    continue
                walls, sqls, counts, cpus = [], [], [], []
                for _ in range(args.repeat):
                    in_db[:] = [0.0, 0]
                    start, cpu = time.perf_counter(), time.process_time()
                    web[who].get(path)
                    walls.append(time.perf_counter() - start)
                    cpus.append(time.process_time() - cpu)
                    sqls.append(in_db[0])
                    counts.append(in_db[1])
                wall, sql = statistics.median(walls) * 1000, statistics.median(sqls) * 1000
                cpu_ms = min(cpus) * 1000
                print(f"{target:<36} {wall:7.1f} ms  sql {sql:6.1f} ms  python {wall - sql:6.1f} ms"
                      f"  cpu {cpu_ms:6.1f} ms  {max(counts)} queries", flush=True)  # fmt: skip
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
