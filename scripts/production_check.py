"""Run the production profile natively, for one sync, then stop it (`make production-check`).

Docker cannot run in CI, so this does what `docker-compose up` would, on the machine's
PostgreSQL and Redis: DEBUG=0 with real secrets, the compose file's `setup` steps (migrate,
setup_periodic_tasks), collectstatic, gunicorn, and the compose file's own worker and beat
commands. The eMAG sandbox stands in for eMAG. It then checks, in under a minute:

- `manage.py check --deploy` finds nothing to warn about;
- /health answers 200 over plain HTTP (exempt from the HTTPS redirect), the admin redirects
  plain HTTP to HTTPS and serves its login page behind a TLS proxy header, with hashed
  static files from whitenoise;
- a full sync of every account, sent as a Celery task through Redis, completes;
- beat (DatabaseScheduler) fires a schedule entry that the worker runs.

Everything it started is stopped, and its database dropped, whatever happens.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/magflow REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python scripts/production_check.py

The database named in DATABASE_URL is not touched: a `<name>_production_check` database
next to it is created and dropped. The Redis database in REDIS_URL is flushed.
"""

import json
import os
import re
import secrets
import shlex
import signal
import socket

# Runs the project's own fixed commands.
import subprocess  # nosec B404
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEADLINE_SECONDS = 55
ACCOUNTS = ("main", "fbe")


class CheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_database_url(base_url: str, suffix: str = "_production_check") -> tuple[str, str, str]:
    """Return (url of the check database, its name, url of the maintenance database)."""
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") + suffix
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        name,
        urlunsplit(parts._replace(path="/postgres")),
    )


def recreate_database(maintenance_url: str, name: str, *, create: bool) -> None:
    with psycopg.connect(maintenance_url, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            db.execute(f'CREATE DATABASE "{name}"')


def production_environment(database_url: str, redis_url: str, sandbox_port: int) -> dict:
    """Return the environment docker-compose would give the app, pointed at the sandbox."""
    from emag_sync.sandbox import sandbox_credentials

    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAG_", "SQLITE_"))}
    env.update(
        MAGFLOW_SKIP_DOTENV="1",
        DJANGO_SETTINGS_MODULE="magflow.settings",
        PYTHONUNBUFFERED="1",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="1",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        EMAG_ACCOUNTS=",".join(ACCOUNTS),
    )
    for name in ACCOUNTS:
        username, password = sandbox_credentials(name)
        prefix = f"EMAG_{name.upper()}_"
        env[prefix + "USERNAME"] = username
        env[prefix + "PASSWORD"] = password
        env[prefix + "API_URL"] = f"http://127.0.0.1:{sandbox_port}/{name}/api-3"
    return env


def compose_commands() -> dict[str, list[list[str]]]:
    """Return each compose service's command as argument lists (`sh -c "a && b"` split)."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    commands = {}
    for name, service in services.items():
        if "build" not in service:
            continue
        args = shlex.split(service["command"])
        script = args[2] if args[:2] == ["sh", "-c"] else shlex.join(args)
        commands[name] = [shlex.split(step) for step in script.split("&&")]
    return commands


def start_logged(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """Start a command from the project root in its own session, its output in `log_path`.

    Its own session makes it a process group that can be signalled whole (pool and all).
    """
    with open(log_path, "wb") as log:
        # Fixed argument list, no shell, no user input.
        return subprocess.Popen(  # nosec B603
            args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


class Process:
    def __init__(self, name: str, args: list[str], env: dict, logs: Path):
        self.name = name
        self.log_path = logs / f"{name}.log"
        self.popen = start_logged(args, env, self.log_path)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> None:
        if self.popen.poll() is not None:
            raise CheckFailed(f"{self.name} exited with {self.popen.returncode}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)


def run_step(args: list[str], env: dict) -> None:
    # Fixed argument list, no shell, no user input.
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)  # nosec B603
    if result.returncode:
        raise CheckFailed(f"{shlex.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def run_setup(env: dict) -> None:
    """Run the compose file's setup steps and the web's collectstatic, as compose would."""
    compose = compose_commands()
    for step in compose["setup"] + compose["web"][:-1]:  # migrate, schedule, collectstatic
        run_step([str(BIN / "python"), *step[1:]], env)


def start_service(name: str, env: dict, logs: Path, *, web_port: int | None = None) -> Process:
    """Start the compose service `web` (gunicorn on web_port), `worker` or `beat` natively."""
    compose = compose_commands()
    if name == "web":
        gunicorn = compose["web"][-1]
        bind = gunicorn.index("--bind")
        gunicorn[bind + 1] = f"127.0.0.1:{web_port}"
        return Process("web", [str(BIN / "gunicorn"), *gunicorn[1:]], env, logs)
    (command,) = compose[name]
    return Process(name, [str(BIN / "celery"), *command[1:]], env, logs)


def sandbox_process(env: dict, logs: Path, port: int, *options: str) -> Process:
    """Start the eMAG sandbox on `port` with the given emag_sandbox options."""
    command = [str(BIN / "python"), "manage.py", "emag_sandbox", "--port", str(port), *options]
    return Process("sandbox", command, env, logs)


def wait_for(what: str, predicate, deadline: float, processes: list[Process]):
    while time.monotonic() < deadline:
        for process in processes:
            process.alive()
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise CheckFailed(f"timed out waiting for {what}")


def http_get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET without following redirects; return (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def main() -> int:
    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS
    base_database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("PRODUCTION_CHECK_REDIS_URL") or os.environ.get("REDIS_URL", "")
    if not base_database_url.startswith("postgres") or not redis_url.startswith("redis"):
        print("production check: DATABASE_URL (PostgreSQL) and REDIS_URL must be set")
        return 2
    database_url, database_name, maintenance_url = check_database_url(base_database_url)
    web_port, sandbox_port = free_port(), free_port()
    env = production_environment(database_url, redis_url, sandbox_port)
    processes: list[Process] = []
    logs = Path(tempfile.mkdtemp(prefix="magflow-production-check-"))
    broker = redis.Redis.from_url(redis_url)
    try:
        recreate_database(maintenance_url, database_name, create=True)
        broker.flushdb()
        run_step(
            [str(BIN / "python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env
        )
        run_setup(env)
        print(
            f"production check: setup and collectstatic done in {time.monotonic() - started:.1f} s"
        )

        processes.append(sandbox_process(env, logs, sandbox_port))
        processes.append(start_service("web", env, logs, web_port=web_port))
        processes.extend(start_service(name, env, logs) for name in ("worker", "beat"))
        by_name = {process.name: process for process in processes}
        wait_for("the worker", lambda: " ready." in by_name["worker"].log(), deadline, processes)
        wait_for("beat", lambda: "beat: Starting" in by_name["beat"].log(), deadline, processes)

        base = f"http://127.0.0.1:{web_port}"
        health = wait_for("/health", lambda: _quiet_get(f"{base}/health"), deadline, processes)
        if health[0] != 200 or json.loads(health[2]) != {
            "status": "ok",
            "database": "ok",
            "broker": "ok",
        }:
            raise CheckFailed(f"/health answered {health[0]} {health[2]!r}")
        status, headers, _ = http_get(f"{base}/admin/login/")
        if status != 301 or not headers.get("Location", "").startswith("https://"):
            raise CheckFailed(f"plain HTTP to the admin answered {status}, not a redirect to HTTPS")
        status, _, page = http_get(f"{base}/admin/login/", {"X-Forwarded-Proto": "https"})
        stylesheet = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
        if status != 200 or not stylesheet:
            raise CheckFailed(f"the admin login page answered {status} without hashed static files")
        status, _, _ = http_get(base + stylesheet.group(1).decode(), {"X-Forwarded-Proto": "https"})
        if status != 200:
            raise CheckFailed(f"whitenoise answered {status} for {stylesheet.group(1).decode()}")

        os.environ.update(env)
        import django

        django.setup()
        from emag_sync.models import HealthCheck, Offer, SyncRun
        from emag_sync.tasks import sync_products_task

        _schedule_health_check_now()
        sync_products_task.apply_async(
            kwargs={"account": "all", "mode": "full", "triggered_by": "production check"}
        )
        runs = wait_for(
            "a full sync of every account",
            lambda: (
                list(SyncRun.objects.filter(finished_at__isnull=False).order_by("account"))
                if SyncRun.objects.filter(finished_at__isnull=False).count() == len(ACCOUNTS)
                else None
            ),
            deadline,
            processes,
        )
        for run in runs:
            if run.status != "completed" or not run.items_seen:
                raise CheckFailed(f"the sync of {run.account} ended {run.status}: {run.errors}")
        wait_for("beat to fire the health check", HealthCheck.objects.exists, deadline, processes)
        offers = {run.account: Offer.objects.filter(account=run.account).count() for run in runs}
        print(
            f"production check: OK in {time.monotonic() - started:.1f} s: gunicorn, worker and "
            f"beat on PostgreSQL and Redis with DEBUG=0; offers synced through a task {offers}; "
            "beat fired a health check"
        )
        return 0
    except Exception as error:
        print(f"production check: FAILED: {error}")
        for process in processes:
            print(f"--- last lines of {process.name} ---")
            print("\n".join(process.log().splitlines()[-30:]))
        return 1
    finally:
        for process in reversed(processes):
            process.stop()
        _clean_up(maintenance_url, database_name, broker)


def drop_database(maintenance_url: str, database_name: str, *, who: str) -> None:
    """Close this process's connections and drop the database; say so if it cannot be."""
    django_apps = sys.modules.get("django.apps")
    if django_apps and django_apps.apps.ready:
        from django.db import connections

        connections.close_all()
    try:
        recreate_database(maintenance_url, database_name, create=False)
    except psycopg.Error as error:
        print(f"{who}: could not drop {database_name}: {error}")


def _clean_up(maintenance_url: str, database_name: str, broker: redis.Redis) -> None:
    """Drop the check's database and empty its Redis database, even after a failure."""
    drop_database(maintenance_url, database_name, who="production check")
    try:
        broker.flushdb()
    except redis.RedisError:
        pass  # unreachable: nothing was left there
    broker.close()


def _quiet_get(url: str):
    try:
        return http_get(url)
    except OSError:
        return None  # not listening yet


def _schedule_health_check_now() -> None:
    """Add a one-off beat entry a few seconds ahead, as an operator could in the admin."""
    from datetime import timedelta

    from django.utils import timezone
    from django_celery_beat.models import ClockedSchedule, PeriodicTask

    clocked = ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(seconds=2))
    PeriodicTask.objects.create(
        name="Production check: health check once",
        task="emag_sync.health_check",
        clocked=clocked,
        one_off=True,
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
