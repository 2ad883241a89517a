"""Run real Celery workers and beat in subprocesses, on the test database and the test Redis.

The subprocesses see what the test committed, so tests using them are transactional
(`django_db(transaction=True)`): PostgreSQL's test database (`test_<name>`) or SQLite's test
file (settings `DATABASES["default"]["TEST"]["NAME"]`) is handed over in the environment.
"""

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from scripts.production_check import start_logged

CELERY = str(Path(sys.executable).parent / "celery")
QUEUES = "emag_offers,emag_orders"
# What the issue asks of the reaper in tests; the heartbeat beats every SYNC_REAP_AFTER / 6.
TEST_REAP_AFTER = 10


def database_environment() -> dict[str, str]:
    """Return the variables that point a child process at the current test database."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        return {"DATABASE_URL": f"postgres://{credentials}@{host}/{db['NAME']}"}
    return {"DATABASE_URL": "", "SQLITE_PATH": str(db["NAME"])}


def child_environment(broker_url: str, sandbox, **overrides: object) -> dict[str, str]:
    """Return the environment of a worker or beat: test database, Redis, quick reaping.

    Every sandbox account points at `sandbox` (a running one, from `start_in_thread`).
    """
    env = dict(os.environ)
    env.update(database_environment())
    env.update(sandbox_environment(sandbox))
    env.update(
        MAGFLOW_SKIP_DOTENV="1",
        DJANGO_SETTINGS_MODULE="magflow.settings",
        PYTHONUNBUFFERED="1",
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=broker_url,
        SYNC_REAP_AFTER=str(TEST_REAP_AFTER),
        # The sandbox runs without rate limits in these tests; retries stay quick.
        EMAG_RATE_LIMIT="0",
        EMAG_MAX_RETRIES="2",
        EMAG_RETRY_MAX_WAIT="0.05",
        EMAG_SECOND_CHANCE_PAUSE="0",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def wait_until(
    predicate: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = ""
):
    """Poll until the predicate returns something truthy and return it; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


_running: set["CeleryProcess"] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Last resort (an interrupted run): never leave a worker consuming the test broker."""
    for process in list(_running):
        process.kill()


class CeleryProcess:
    """A celery worker or beat in its own process group, logging to a file.

    Use it as a context manager: leaving the block stops it, whatever happened inside.
    """

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self.process = start_logged(args, env, log_path)
        _running.add(self)

    def __enter__(self) -> "CeleryProcess":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_until_ready(self, text: str) -> "CeleryProcess":
        """Return once the process logged `text`; kill it if it never does."""
        try:
            self.wait_for_log(text)
        except BaseException:
            self.kill()
            raise
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, *, timeout: float = 30.0) -> None:
        def seen() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"celery exited with {self.process.returncode}:\n{self.log()}")
            return text in self.log()

        try:
            wait_until(seen, timeout=timeout, what=f"{text!r} in the celery log")
        except AssertionError:
            raise AssertionError(f"{text!r} not logged within {timeout} s:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool, nothing survives."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        _running.discard(self)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask for a warm shutdown; kill whatever is still there after the timeout."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Pool processes of a worker whose main process is gone must not linger either.
        self.kill()


def start_worker(
    env: dict[str, str], log_path: Path, *, concurrency: int = 3, name: str = "test"
) -> CeleryProcess:
    """Start a worker on both queues and return once it is ready to take tasks."""
    worker = CeleryProcess(
        [
            CELERY,
            "-A",
            "magflow",
            "worker",
            "-Q",
            QUEUES,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}@%h",
        ],
        env,
        log_path,
    )
    return worker.wait_until_ready(" ready.")


def start_beat(env: dict[str, str], log_path: Path, *, max_interval: int = 1) -> CeleryProcess:
    """Start beat with the database scheduler, waking at least every `max_interval` seconds."""
    beat = CeleryProcess(
        [
            CELERY,
            "-A",
            "magflow",
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--max-interval",
            str(max_interval),
            "--pidfile",
            str(log_path.with_suffix(".pid")),
            "--loglevel",
            "INFO",
        ],
        env,
        log_path,
    )
    return beat.wait_until_ready("beat: Starting...")


def send(task, broker_url: str, **options: object):
    """Send a task to the test broker, whatever broker this process's settings name."""
    from magflow.celery import app

    with app.connection_for_write(broker_url) as broker:
        return task.apply_async(connection=broker, **options)


def sandbox_environment(running) -> dict[str, str]:
    """Return the EMAG_* variables that point every sandbox account at a running sandbox."""
    from emag_sync.sandbox import sandbox_credentials

    env = {}
    for name in running.sandbox.accounts:
        username, password = sandbox_credentials(name)
        prefix = f"EMAG_{name.upper()}_"
        env[prefix + "USERNAME"] = username
        env[prefix + "PASSWORD"] = password
        env[prefix + "API_URL"] = running.api_url(name)
    return env
