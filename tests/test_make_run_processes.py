"""`make run`'s process manager (scripts/run.py) keeps the app up and stops it cleanly.

Each test starts the real script on the embedded default (SQLite, the embedded broker, the
sandbox) in a private folder, then kills or interrupts it as a user or a crash would.
"""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOX_TITLE = "MagFlow eMAG Sync is running."

pytestmark = pytest.mark.slow


def free_port(*, besides: int = -1) -> int:
    """Return a free local port: from MAGFLOW_TEST_PORTS ("8200-8299") when set, else any."""
    first, _, last = os.environ.get("MAGFLOW_TEST_PORTS", "").partition("-")
    candidates = range(int(first), int(last) + 1) if first else [0]
    for candidate in candidates:
        if candidate == besides:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise AssertionError(f"no free port in {first}-{last}")


class MakeRun:
    """One `scripts/run.py` in a private folder: start, read its log, query its database."""

    def __init__(self, folder: Path, **overrides: str):
        self.folder = folder
        self.db = folder / "db.sqlite3"
        self.port = free_port()
        self.sandbox_port = free_port(besides=self.port)
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("EMAG_", "PYTEST", "DJANGO_SETTINGS"))
            and key not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DEBUG"}
        }
        self.env.update(
            MAGFLOW_SKIP_DOTENV="1",
            SQLITE_PATH=str(self.db),
            CELERY_FILESYSTEM_DIR=str(folder / "celery"),
            PORT=str(self.port),
            SANDBOX_PORT=str(self.sandbox_port),
            DJANGO_SUPERUSER_PASSWORD="make-run-test-password",
            **overrides,
        )
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    def start(self, name: str) -> None:
        self.log_path = self.folder / f"{name}.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "scripts" / "run.py")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        assert self.log_path is not None, "run.py was not started"
        return self.log_path.read_text(errors="replace")

    def wait_for(self, what: str, predicate, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            assert self.process is not None, "run.py was not started"
            assert self.process.poll() is None, f"run.py exited early:\n{self.log()[-4000:]}"
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-4000:]}")

    def pids(self, name: str) -> list[int]:
        return [int(pid) for pid in re.findall(rf"started {name} \(pid (\d+)\)", self.log())]

    def query(self, sql: str, *params) -> list[tuple]:
        try:
            with sqlite3.connect(self.db, timeout=10) as db:
                return db.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []  # not created or migrated yet

    def runs(self, kind: str = "offers") -> list[tuple]:
        return self.query(
            "SELECT id, account, mode, status, pages_done, resumed_from_page, errors "
            "FROM emag_sync_syncrun WHERE kind = ? ORDER BY id",
            kind,
        )

    def manage(self, code: str) -> str:
        """Run Python in a `manage.py shell` of this app, its accounts on its sandbox."""
        from emag_sync.sandbox import sandbox_credentials

        env = dict(self.env)
        for name in ("main", "fbe"):
            prefix = f"EMAG_{name.upper()}_"
            env[prefix + "USERNAME"], env[prefix + "PASSWORD"] = sandbox_credentials(name)
            env[prefix + "API_URL"] = f"http://127.0.0.1:{self.sandbox_port}/{name}/api-3"
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, (
            f"manage.py shell exited {result.returncode}:\n{result.stderr[-4000:]}"
        )
        return result.stdout.strip().splitlines()[-1]

    def interrupt(self, timeout: float = 40) -> int:
        assert self.process is not None, "run.py was not started"
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def start_make_run(tmp_path):
    started = []

    def build(**overrides: str) -> MakeRun:
        instance = MakeRun(tmp_path, **overrides)
        started.append(instance)
        return instance

    yield build
    for instance in started:
        instance.kill()


def _both_first_syncs_completed(app: MakeRun) -> bool:
    finished = {(account, status) for _, account, _, status, *_ in app.runs()}
    return {("main", "completed"), ("fbe", "completed")} <= finished


def _kill_group(pid: int) -> None:
    os.killpg(pid, signal.SIGKILL)


def test_a_killed_worker_and_sandbox_come_back_the_web_never_stops_and_a_lost_run_is_freed(
    start_make_run,
):
    # A short heartbeat and grace keep the test quick; the bound is grace + one heartbeat.
    app = start_make_run(SYNC_REAP_AFTER="6", SYNC_QUEUED_GRACE="3")
    app.start("first")
    app.wait_for("the box", lambda: BOX_TITLE in app.log(), 90)
    app.wait_for("both first full syncs", lambda: _both_first_syncs_completed(app), 90)
    [web], [worker], [sandbox] = app.pids("web"), app.pids("worker"), app.pids("sandbox")

    refused = []
    polling = threading.Event()

    def poll_web() -> None:
        while not polling.is_set():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{app.port}/health", timeout=5).close()
            except urllib.error.HTTPError:
                pass  # an answer (a 503 while the worker restarts is still the web answering)
            except OSError as error:
                refused.append(repr(error))
            time.sleep(0.3)

    poller = threading.Thread(target=poll_web, daemon=True)
    poller.start()
    # A queued run whose task message never reached the broker: as lost as one a dead
    # worker held.
    lost = int(
        app.manage(
            "from emag_sync.services.sync_runs import sync_run_claim\n"
            "print(sync_run_claim(account='main', kind='acknowledge', queued=True,"
            " triggered_by='lost message').pk)"
        )
    )
    _kill_group(worker)
    _kill_group(sandbox)

    app.wait_for(
        "the worker and the sandbox started again",
        lambda: len(app.pids("worker")) == 2 and len(app.pids("sandbox")) == 2,
        30,
    )
    log = app.log()
    assert re.search(r"worker exited with status -9 after \d+ s; restarting it in 1 s", log)
    assert re.search(r"sandbox exited with status -9 after \d+ s; restarting it in 1 s", log)
    freed_within = time.monotonic()
    app.wait_for(
        "the lost queued run failed",
        lambda: (
            app.query("SELECT status FROM emag_sync_syncrun WHERE id = ?", lost) == [("failed",)]
        ),
        60,
    )
    freed_within = time.monotonic() - freed_within
    [(errors,)] = app.query("SELECT errors FROM emag_sync_syncrun WHERE id = ?", lost)
    assert "no longer in the broker" in errors

    # Both came back working: the restarted sandbox serves the same catalogue.
    with socket.create_connection(("127.0.0.1", app.sandbox_port), timeout=5):
        pass
    # The schedule's hourly incremental (minute 23) may hold main's offer stream: wait for it.
    count = app.manage(
        "import time\n"
        "from emag_sync.services.sync_triggers import offer_syncs_run\n"
        "from emag_sync.services.offer_sync import OfferSyncOptions\n"
        "from emag_sync.services.sync_runs import SyncAlreadyRunning\n"
        "for _ in range(40):\n"
        "    try:\n"
        "        [run] = offer_syncs_run(accounts=['main'], options=OfferSyncOptions(mode='full'),"
        " triggered_by='test')\n"
        "        break\n"
        "    except SyncAlreadyRunning:\n"
        "        time.sleep(1)\n"
        "print(run.status, run.items_seen, run.items_created)"
    )
    assert count == "completed 1274 0"
    polling.set()
    poller.join()
    assert refused == []
    assert app.pids("web") == [web]
    assert "web exited" not in app.log()
    assert app.interrupt() == 0
    print(f"lost queued run freed {freed_within:.1f} s after the worker came back")


def test_ctrl_c_during_full_syncs_exits_0_interrupts_them_and_the_next_start_resumes_both(
    start_make_run,
):
    # 40 pages an account at eMAG's 3 requests/s: long enough to interrupt mid-way.
    offers = {"main": 4000, "fbe": 3900}
    app = start_make_run(SANDBOX_OFFERS=",".join(f"{name}={n}" for name, n in offers.items()))
    app.start("first")

    def both_mid_way() -> bool:
        running = [run for run in app.runs() if run[3] == "running" and run[4] >= 2]
        return {run[1] for run in running} == {"main", "fbe"}

    app.wait_for("both full syncs mid-way", both_mid_way, 120)
    stopping_at = len(app.log())
    started = time.monotonic()
    assert app.interrupt() == 0
    stop_seconds = time.monotonic() - started

    statuses = {(account, status) for _, account, _, status, *_ in app.runs()}
    assert statuses == {("main", "interrupted"), ("fbe", "interrupted")}
    assert not app.query(
        "SELECT id FROM emag_sync_syncrun WHERE status IN ('queued', 'running', 'failed')"
    )
    stop_log = app.log()[stopping_at:]
    assert "ERROR" not in stop_log and "Traceback" not in stop_log, stop_log
    assert "did not stop in time" not in stop_log
    interrupted_at = {account: pages for _, account, _, _, pages, *_ in app.runs()}

    app.start("second")
    app.wait_for(
        "both resumed syncs completed",
        lambda: (
            {(run[1], run[3]) for run in app.runs()[2:]}
            == {("main", "completed"), ("fbe", "completed")}
        ),
        120,
    )
    for _, account, mode, status, _pages, resumed_from, _ in app.runs()[2:]:
        assert (mode, status) == ("full", "completed")
        # It continued at the page before its checkpoint, not at page 1.
        assert resumed_from == interrupted_at[account], account
    counts = dict(
        app.query("SELECT account, COUNT(DISTINCT emag_id) FROM emag_sync_offer GROUP BY account")
    )
    rows = dict(app.query("SELECT account, COUNT(*) FROM emag_sync_offer GROUP BY account"))
    assert counts == rows == offers
    assert app.interrupt() == 0
    print(f"Ctrl-C stopped everything in {stop_seconds:.1f} s")
