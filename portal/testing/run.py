"""``make test``: the whole suite on SQLite, then again on PostgreSQL.

PostgreSQL runs when ``PORTAL_TEST_POSTGRES_URL`` is set or a local server answers on
127.0.0.1:5432. With ``PORTAL_REQUIRE_POSTGRES=1`` (CI) a missing server is a failure, never a
silent skip. The pure unit tests (``tests/unit``) touch no database and run only once.

The plugins shipped in ``plugins/`` are separate distributions with their own suites
(``plugins/<name>/tests``): each runs after the core's, on the same backend, in a pytest
session of its own — its ``conftest.py`` enables the plugin for every test app and migrates its
Alembic branch, which must not leak into the core's tests.

Usage: python -m portal.testing.run [--only sqlite|postgres] [extra pytest arguments]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from portal.core.settings import PROJECT_ROOT
from portal.testing.databases import postgres_answers, postgres_server_url

NO_TESTS_COLLECTED = 5


def plugin_suites() -> list[str]:
    """The test directories of the plugins shipped in ``plugins/``."""
    return sorted(str(path) for path in PROJECT_ROOT.glob("plugins/*/tests") if path.is_dir())


def _pytest(backend: str, extra: list[str], suite: str | None = None) -> int:
    env = {**os.environ, "PORTAL_TEST_DATABASE": backend}
    workers = os.environ.get("PORTAL_TEST_WORKERS", "auto")
    args = [sys.executable, "-m", "pytest", "-n", workers, "--dist", "loadfile", *extra]
    if suite is not None:
        args.append(suite)
    elif backend == "postgres":
        args.append("--ignore=tests/unit")
    print(f"\n=== {suite or 'test suite'} on {backend} ===", flush=True)
    code = subprocess.call(args, env=env)  # noqa: S603 (our own interpreter and pytest)
    if code == NO_TESTS_COLLECTED:
        print(f"no tests were collected on {backend}", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    options, extra = parser.parse_known_args(argv)
    required = os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1" or options.only == "postgres"

    results: dict[str, int] = {}
    if options.only in (None, "sqlite"):
        results["sqlite"] = _pytest("sqlite", extra)
        for suite in plugin_suites():
            results[f"sqlite plugin {Path(suite).parent.name}"] = _pytest("sqlite", extra, suite)
    if options.only in (None, "postgres"):
        if os.environ.get("PORTAL_TEST_POSTGRES_URL") or postgres_answers():
            results["postgres"] = _pytest("postgres", extra)
            for suite in plugin_suites():
                results[f"postgres plugin {Path(suite).parent.name}"] = _pytest(
                    "postgres", extra, suite
                )
        elif required:
            print(f"PostgreSQL is required but does not answer at {postgres_server_url()}")
            results["postgres"] = 1
        else:
            print(f"PostgreSQL does not answer at {postgres_server_url()}: skipped that run.")
    summary = ", ".join(
        f"{name}: {'ok' if code == 0 else 'FAILED'}" for name, code in results.items()
    )
    print(f"\n=== {summary} ===")
    return 0 if results and all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
