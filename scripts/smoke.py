"""End-to-end smoke test of the embedded profile (`make smoke`), in under two minutes.

Starts what `make run` starts (sandbox, web, worker, beat) on free ports with a fresh
SQLite database and filesystem broker, waits for the first full sync of every account,
checks the offers and a few pages over HTTP, runs the README's API walkthrough, then stops
everything.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3

# Runs the project's own fixed commands.
import subprocess  # nosec B404
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_OFFERS = {"main": 1274, "fbe": 1271}
DEADLINE_SECONDS = 100
# Throwaway password of a temporary smoke-test database.
ADMIN_PASSWORD = "smoke-test-password-1"  # nosec B105


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_environment(workdir: Path, port: int, sandbox_port: int) -> dict[str, str]:
    """Return an environment with no servers configured: the embedded default."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EMAG_")
        and key not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DEBUG"}
    }
    env.update(
        MAGFLOW_SKIP_DOTENV="1",
        SQLITE_PATH=str(workdir / "db.sqlite3"),
        CELERY_FILESYSTEM_DIR=str(workdir / "celery"),
        PORT=str(port),
        SANDBOX_PORT=str(sandbox_port),
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
    )
    return env


def finished_runs(db_path: Path) -> dict[str, tuple[str, int]]:
    """Return {account: (status, items_seen)} of finished offer runs, newest per account."""
    if not db_path.exists():
        return {}
    try:
        with sqlite3.connect(db_path, timeout=5) as db:
            rows = db.execute(
                "SELECT account, status, items_seen FROM emag_sync_syncrun "
                "WHERE kind = 'offers' AND status NOT IN ('queued', 'running') ORDER BY id"
            ).fetchall()
    except sqlite3.OperationalError:
        return {}  # not migrated yet
    return {account: (status, seen) for account, status, seen in rows}


def offer_counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path, timeout=5) as db:
        rows = db.execute("SELECT account, COUNT(*) FROM emag_sync_offer GROUP BY account")
        return dict(rows.fetchall())


def admin_session(base_url: str) -> urllib.request.OpenerDirector:
    """Log in to the admin like a browser and return the opener holding the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base_url}/admin/login/", timeout=10).read().decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if found is None:
        raise RuntimeError("the admin's login page has no CSRF token")
    token = found.group(1)
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "next": "/admin/",
        }
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/admin/login/", data=form, headers={"Referer": f"{base_url}/admin/login/"}
    )
    landing = opener.open(request, timeout=10)
    if "/admin/login/" in landing.geturl():
        raise AssertionError("admin login failed")
    return opener


def api_call(
    base_url: str, method: str, path: str, body=None, token: str | None = None, version: str = "v2"
):
    """Call the REST API like the README's curl walkthrough; return the decoded JSON."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{base_url}/api/{version}{path}", data=data, headers=headers, method=method
    )
    # A fixed http://127.0.0.1 URL of a server this script started.
    with urllib.request.urlopen(request, timeout=60) as answer:  # nosec B310
        return json.loads(answer.read())


def sync_when_free(base_url: str, token: str, wait_seconds: float = 60) -> dict:
    """Run an incremental sync of main, waiting while another run holds its offer stream.

    The schedule's own runs (the hourly incremental, at minute 23) can hold it: the API then
    answers 409, and a seller's script waits as this does.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return api_call(
                base_url,
                "POST",
                "/emag/products/sync",
                {"account_type": "main", "mode": "incremental", "max_pages": 2, "run_async": False},
                token=token,
            )
        except urllib.error.HTTPError as error:
            if error.code != 409 or time.monotonic() > deadline:
                raise
            time.sleep(1)


def api_walkthrough(base_url: str) -> None:
    """Run the predecessor's walkthrough: login, test both accounts, sync, statistics, list."""
    token = api_call(
        base_url, "POST", "/auth/login", {"username": "admin", "password": ADMIN_PASSWORD}
    )["access"]
    for account in EXPECTED_OFFERS:
        check = api_call(
            base_url, "POST", f"/emag/products/test-connection?account_type={account}", token=token
        )
        if not check["ok"] or check["total_products"] != EXPECTED_OFFERS[account]:
            raise AssertionError(f"test-connection of {account}: {check}")
    sync = sync_when_free(base_url, token)
    if sync["status"] != "completed" or sync["totals"]["processed"] != 200:
        raise AssertionError(f"incremental sync: {sync['status']}, {sync['totals']}")
    statistics = api_call(base_url, "GET", "/emag/products/statistics", token=token)
    if statistics["products_by_account"] != EXPECTED_OFFERS:
        raise AssertionError(f"statistics: {statistics['products_by_account']}")
    products = api_call(base_url, "GET", "/emag/products/products?limit=10", token=token)
    history = api_call(base_url, "GET", "/emag/products/history?limit=5", token=token)
    if len(products["results"]) != 10 or not history["results"]:
        raise AssertionError("products or history came back empty")


def predecessor_walkthrough(base_url: str) -> None:
    """Log in and read through /api/v1 as the predecessor's scripts and React page do."""
    token = api_call(
        base_url,
        "POST",
        "/auth/login",
        {"username": "admin", "password": ADMIN_PASSWORD},
        version="v1",
    )["access_token"]
    status = api_call(base_url, "GET", "/emag/products/status", token=token, version="v1")
    products = api_call(
        base_url, "GET", "/emag/products/products?skip=0&limit=5", token=token, version="v1"
    )
    # A scheduled sync may be running by now: only the answer's shape is certain.
    if not isinstance(status["is_running"], bool) or products["status"] != "success":
        raise AssertionError(f"v1: status {status}, products {products['status']}")
    if products["data"]["pagination"]["total"] != sum(EXPECTED_OFFERS.values()):
        raise AssertionError(f"v1 products total: {products['data']['pagination']}")


def main() -> int:
    started = time.monotonic()
    port, sandbox_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="magflow-smoke-") as tmp:
        workdir = Path(tmp)
        log_path = workdir / "run.log"
        env = embedded_environment(workdir, port, sandbox_port)
        process = start_make_run(env, log_path)
        try:
            db_path = workdir / "db.sqlite3"
            while time.monotonic() - started < DEADLINE_SECONDS:
                if process.poll() is not None:
                    raise AssertionError(f"make run exited early with {process.returncode}")
                runs = finished_runs(db_path)
                if all(account in runs for account in EXPECTED_OFFERS):
                    break
                time.sleep(1)
            else:
                raise AssertionError(
                    f"no finished sync of every account within {DEADLINE_SECONDS} s"
                )
            for account, (status, _seen) in runs.items():
                if status != "completed":
                    raise AssertionError(f"the first sync of {account} ended {status}")
            counts = offer_counts(db_path)
            if counts != EXPECTED_OFFERS:
                raise AssertionError(f"offers per account {counts}, expected {EXPECTED_OFFERS}")
            base_url = f"http://127.0.0.1:{port}"
            opener = admin_session(base_url)
            changelist = opener.open(f"{base_url}/admin/emag_sync/offer/", timeout=10)
            if changelist.status != 200:
                raise AssertionError(f"offer changelist answered {changelist.status}")
            api_walkthrough(base_url)
            predecessor_walkthrough(base_url)
            elapsed = time.monotonic() - started
            print(
                f"smoke: OK in {elapsed:.1f} s: offers {counts}, runs "
                + ", ".join(f"{a}={s} ({n} seen)" for a, (s, n) in sorted(runs.items()))
            )
            return 0
        except Exception as error:
            print(f"smoke: FAILED: {error}\n{log_tail(log_path, 60)}")
            return 1
        finally:
            _stop(process)


def start_make_run(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start scripts/run.py (what `make run` runs) in its own process group, logging to a file."""
    with open(log_path, "w") as log:
        # Fixed argument list, no shell, no user input.
        return subprocess.Popen(  # nosec B603
            [sys.executable, str(ROOT / "scripts" / "run.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def log_tail(log_path: Path, count: int) -> str:
    """Return the last `count` lines of the run log under a heading, for a failure's report."""
    lines = log_path.read_text(errors="replace").splitlines()[-count:]
    return "--- last lines of the run log ---\n" + "\n".join(lines)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        # run.py stops its processes in order, each within its own timeout (25 s at most).
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
