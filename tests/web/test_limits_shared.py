"""Rate limits count in one bucket for every process serving the portal (Redis), not per
worker: two real servers, sign-in attempts alternating between them (docs/security.md).

Redis is required where ``PORTAL_REQUIRE_REDIS=1`` (CI): a missing server fails the test, never
skips it. Each run uses its own key prefix, so runs sharing one Redis do not interfere.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.testing.factories import PASSWORD

REDIS_URL = os.environ.get("PORTAL_REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        server.ping()
    except redis.RedisError as exc:
        if os.environ.get("PORTAL_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required but does not answer at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    prefix = f"portal-test-{uuid.uuid4().hex}"
    yield prefix
    for key in server.scan_iter(match=f"*{prefix}*"):
        server.delete(key)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_SERVE = (
    "import sys; from werkzeug.serving import run_simple; from portal.core.app import create_app; "
    "run_simple('127.0.0.1', int(sys.argv[1]), create_app(), threaded=True)"
)


@pytest.fixture
def two_servers(
    app: Any, portal_settings: dict[str, Any], redis_prefix: str, tmp_path: Path
) -> Iterator[list[str]]:
    """Two portal processes on the test database, counting limits in Redis."""
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": portal_settings["database_url"],
        "PORTAL_SECRET_KEY": portal_settings["secret_key"],
        "PORTAL_SESSION_COOKIE_SECURE": "0",
        "PORTAL_DEFAULT_LOCALE": "en",
        "PORTAL_REDIS_URL": REDIS_URL,
        "PORTAL_RATELIMIT_STORAGE_URI": "",
        "PORTAL_RATELIMIT_KEY_PREFIX": redis_prefix,
        "PORTAL_INSTANCE_PATH": str(tmp_path),
    }
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(port)], env=env, stderr=subprocess.DEVNULL
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, server in zip(urls, servers, strict=True):
            _wait_until_up(url, server)
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise AssertionError(f"the server for {url} exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"{url}/login", timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


class Browser:
    """One browser (one cookie jar) talking to whichever server it is given."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def sign_in(self, server: str, email: str, password: str) -> int:
        page = self.opener.open(f"{server}/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
        try:
            with self.opener.open(f"{server}/login", data=data.encode()) as answer:
                return answer.status
        except urllib.error.HTTPError as answer:
            return answer.code


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_failed_sign_ins_count_across_processes(two_servers: list[str], client_account) -> None:
    first, second = two_servers
    browser = Browser()
    answers = [
        browser.sign_in(server, client_account.email, "wrong password")
        for server in (first, second, first, second, first)
    ]
    assert answers == [200] * 5
    assert browser.sign_in(second, client_account.email, "wrong password") == 429
    assert browser.sign_in(first, client_account.email, PASSWORD) == 429
    other_account = browser.sign_in(second, "someone.else@example.com", "wrong password")
    assert other_account == 200
