"""Shared fixtures: real services when configured, the eMAG sandbox, and a clean settings cache.

A test that needs PostgreSQL or Redis asks for it through a fixture here. Without the server
it is skipped with the reason, except under REQUIRE_SERVICES=1 (CI), where it fails.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import redis as redis_lib
from django.utils import translation

from emag_sync.accounts import get_accounts

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parent.parent


def run_python(
    args: list[str], env: dict[str, str], *, timeout: float = 60, check: bool = False
) -> subprocess.CompletedProcess:
    """Run this virtualenv's Python on `args` in the checkout, with `env`; capture its text."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def _missing_service(reason: str) -> NoReturn:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


TEST_API_ROOT = "http://emag.test"


@pytest.fixture(autouse=True)
def _test_accounts(monkeypatch):
    """Give every configured account test credentials and a URL that no test can reach.

    Real credentials from a developer's environment are never used by the suite; tests
    that talk to the sandbox point the accounts at it (see `sandbox_accounts`).
    """
    for key in [key for key in os.environ if key.startswith("EMAG_") and key.count("_") >= 2]:
        if key.split("_", 2)[2] in {"USERNAME", "PASSWORD", "API_URL", "TIMEZONE", "FULFILLMENT"}:
            monkeypatch.delenv(key)
    for name in ("main", "fbe"):
        monkeypatch.setenv(f"EMAG_{name.upper()}_USERNAME", f"{name}-test-user")
        monkeypatch.setenv(f"EMAG_{name.upper()}_PASSWORD", f"{name}-test-password")
        monkeypatch.setenv(f"EMAG_{name.upper()}_API_URL", f"{TEST_API_ROOT}/{name}/api-3")
    get_accounts.cache_clear()
    yield
    get_accounts.cache_clear()


@pytest.fixture(autouse=True)
def _no_push_tasks_from_edits(settings):
    """Keep local edits from sending push tasks to the broker; the push tests turn it on."""
    settings.PUSH_ON_EDIT = False


@pytest.fixture(autouse=True)
def _english(request, settings, monkeypatch):
    """Run each test in English, the language its expectations are written in.

    The product defaults to Romanian (LANGUAGE_CODE); the i18n tests (marked `i18n`) choose
    their languages themselves. Subprocesses a test starts inherit English too.
    """
    if request.node.get_closest_marker("i18n"):
        yield
        return
    settings.LANGUAGE_CODE = "en"
    monkeypatch.setenv("LANGUAGE_CODE", "en")
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hash test users' passwords with a fast hasher.

    The production hasher is slow on purpose (about half a second a password here), and the
    admin and API tests create a user or two each: minutes of the suite.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _generous_login_throttles(settings):
    """Keep the login throttles out of the way of tests that log in; their own tests lower them.

    The counts live in the cache, which is Redis (shared across test runs) when configured.
    """
    settings.API_THROTTLE_LOGIN = "10000/minute"
    settings.API_THROTTLE_LOGIN_IP = "10000/minute"


def redis_flushed(needed_for: str) -> str:
    """Return REDIS_URL once its server answers, its database flushed; else skip (fail under
    REQUIRE_SERVICES=1), saying what needed it."""
    url = os.environ.get("REDIS_URL")
    if not url:
        _missing_service(f"REDIS_URL is not set; {needed_for}")
    client = redis_lib.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
        client.flushdb()
    except redis_lib.RedisError as error:
        _missing_service(f"Redis at {url} is unreachable: {error}")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Return the URL of a reachable, flushed Redis database, or skip (fail under CI)."""
    url = redis_flushed("Redis tests need a real server")
    yield url
    client = redis_lib.Redis.from_url(url, socket_connect_timeout=2)
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def broker_url() -> str:
    """Return the Redis broker URL real Celery processes share, flushed once per module.

    Skips without Redis (fails under REQUIRE_SERVICES=1).
    """
    return redis_flushed("real Celery workers need the Redis broker")


@pytest.fixture
def postgres_required(settings):
    """Skip (fail under CI) unless the test database is PostgreSQL."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        _missing_service("DATABASE_URL does not point at PostgreSQL")


def point_accounts_at(monkeypatch, api_url_for, names=("main", "fbe")) -> None:
    """Give accounts the sandbox's credentials and URLs (api_url_for(name) -> base URL)."""
    from emag_sync.sandbox import sandbox_credentials

    for name in names:
        username, password = sandbox_credentials(name)
        monkeypatch.setenv(f"EMAG_{name.upper()}_USERNAME", username)
        monkeypatch.setenv(f"EMAG_{name.upper()}_PASSWORD", password)
        monkeypatch.setenv(f"EMAG_{name.upper()}_API_URL", api_url_for(name))
    get_accounts.cache_clear()


@pytest.fixture
def fast_retries(settings):
    """Keep the client's backoff short so fault tests take milliseconds, not seconds."""
    settings.EMAG_RETRY_MAX_WAIT = 0.01
    settings.EMAG_MAX_RETRIES = 3
    settings.EMAG_SECOND_CHANCE_PAUSE = 0.0


@pytest.fixture
def live_sandbox(monkeypatch, settings, fast_retries):
    """Start eMAG sandboxes over real HTTP and point the accounts at them.

    Call it with the Sandbox's keyword arguments; by default rate limits are off on both
    sides (a test of the limits turns them on). Servers stop at the end of the test.
    """
    from emag_sync.sandbox import Sandbox
    from emag_sync.sandbox.http import start_in_thread

    running = []

    def start(*, client_rate_limit: bool = False, **sandbox_options):
        sandbox_options.setdefault("rate_limit", False)
        settings.EMAG_RATE_LIMIT = client_rate_limit
        sandbox = Sandbox(**sandbox_options)
        server = start_in_thread(sandbox)
        running.append(server)
        point_accounts_at(monkeypatch, server.api_url, names=sandbox.accounts)
        return sandbox, server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def clock():
    """Return a clock at the order tests' fixed NOW, for a sandbox and a sync to share."""
    from tests.orders_support import Clock

    return Clock()


@pytest.fixture
def order_history_sandbox(live_sandbox, settings, clock):
    """Start a sandbox on `clock` (unless given another) whose every order a first sync reads.

    Call it with the Sandbox's keyword arguments; it returns the Sandbox.
    """
    from tests.orders_support import ALL_HISTORY_DAYS

    def start(**sandbox_options):
        settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
        sandbox_options.setdefault("clock", clock)
        sandbox, _ = live_sandbox(**sandbox_options)
        return sandbox

    return start


@pytest.fixture
def subprocess_env(settings):
    """Return a function building the environment of a child process that shares the test DB.

    The child sees the monkeypatched EMAG_* variables (they are in os.environ), the test
    database (SQLite file or PostgreSQL test database) and the settings given as keywords.
    """
    from django.db import connection

    def build(**overrides) -> dict[str, str]:
        env = dict(os.environ)
        env["MAGFLOW_SKIP_DOTENV"] = "1"
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(db["NAME"])
        else:
            credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
            env["DATABASE_URL"] = (
                f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            )
        env["EMAG_RATE_LIMIT"] = "1" if settings.EMAG_RATE_LIMIT else "0"
        env["EMAG_RETRY_MAX_WAIT"] = str(settings.EMAG_RETRY_MAX_WAIT)
        env["EMAG_SECOND_CHANCE_PAUSE"] = str(settings.EMAG_SECOND_CHANCE_PAUSE)
        env["SYNC_REAP_AFTER"] = str(settings.SYNC_REAP_AFTER)
        env.update({key: str(value) for key, value in overrides.items()})
        return env

    return build
