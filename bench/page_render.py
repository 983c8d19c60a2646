"""Requests per second for the sign-in page and the admin dashboard (in-process test client).

Usage: python bench/page_render.py [N]   (default 300 requests per page)
Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main(n: int) -> None:
    from portal.core.app import create_app
    from portal.core.clock import SystemClock
    from portal.platform.plugin_migrations import upgrade_all
    from portal.testing.factories import make_staff
    from portal.testing.web import WebClient

    with tempfile.TemporaryDirectory() as tmp:
        settings = {
            "database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "secret_key": "bench",
            "session_cookie_secure": False,
            "login_rate_limit_account": "100000 per minute",
            "login_rate_limit_address": "100000 per minute",
        }
        app = create_app(settings, instance_path=tmp)
        app.test_client_class = WebClient
        with app.app_context():
            upgrade_all()
            staff = make_staff(SystemClock())
            web = app.test_client()
            web.sign_in_staff(staff.email)
            for label, url in (("GET /login", "/login"), ("GET /admin/ (signed in)", "/admin/")):
                web.get(url)
                start = time.perf_counter()
                for _ in range(n):
                    web.get(url)
                elapsed = time.perf_counter() - start
                print(f"{label:<28} {n / elapsed:8.1f} req/s  ({elapsed / n * 1000:.2f} ms each)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
