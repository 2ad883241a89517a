"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and a Celery worker.

Chromium comes from the system (`.ci/run` installs Debian's package); Playwright never
downloads a browser. Without Chromium or Playwright these tests are skipped with the
reason, and fail under REQUIRE_SERVICES=1 like every test needing something installed.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import _missing_service

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WORKER_START_TIMEOUT = 30
# Every browser test: the live server and the worker read the database from other threads and
# processes, so the data is committed; WhiteNoise warns of the STATIC_ROOT nobody collected.
BROWSER_TEST_MARKS = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:No directory at"),
]


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the whole session."""
    executable = chromium_executable()
    if executable is None:
        _missing_service("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_service("Playwright is not installed (pip install -r requirements-dev.txt)")
    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse
    # ORM calls from the test itself; the live server answers from its own thread anyway.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Chromium reports a blocked script, style, image, font or fetch on the console; this also
# catches the ones it reports only as an event.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def record_problems(context, page) -> list[str]:
    """Collect the page's console errors, script errors and CSP violations in a list."""
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    problems: list[str] = []

    def on_console(message) -> None:
        # The admin has no favicon; the browser's own request for one is no page's fault.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return problems


def _use_broker(app, url: str, transport_options: dict) -> None:
    """Point this process's Celery producer at a broker, dropping pooled connections."""
    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_worker(subprocess_env, tmp_path):
    """Return a function starting a real Celery worker on a private filesystem broker.

    Start it after the sandbox (the worker inherits the accounts' URLs). This process
    (the live server's thread) queues tasks into the same folder.
    """
    from magflow.celery import app

    folder = tmp_path / "celery"
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True)
    saved = (app.conf.broker_url, dict(app.conf.broker_transport_options or {}))
    _use_broker(
        app,
        "filesystem://",
        {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        },
    )
    log_path = tmp_path / "worker.log"
    processes = []

    def start() -> subprocess.Popen:
        env = subprocess_env(CELERY_BROKER_URL="filesystem://", CELERY_FILESYSTEM_DIR=str(folder))
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "magflow", "worker",
                    "-Q", "emag_offers,emag_orders", "--pool", "threads", "--concurrency", "4",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--loglevel", "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        processes.append(process)
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while " ready." not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the Celery worker did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _use_broker(app, *saved)
