"""Chaos soak of the production profile (`make soak`; SOAK_MINUTES long, default 20).

Starts what `make production-check` starts, natively: a Redis server of its own
(SOAK_REDIS_PORT), a PostgreSQL database of its own next to DATABASE_URL's
(`<name>_soak`, created and dropped), gunicorn, a Celery worker and beat with the default
schedule sped up to seconds, and the eMAG sandbox with 3,000 + 1,500 offers and 500 + 300
orders. For SOAK_MINUTES it then:

- drifts the sandbox every 20 s (offers and orders changing, appearing, vanishing) and serves
  seeded random faults of every transient kind on SOAK_FAULT_RATE of all calls, on every
  resource, with one eMAG outage (every call failing) of about a minute;
- SIGKILLs the worker (its whole process group) every few minutes and starts it again;
- restarts its Redis once and terminates every connection to its database once
  (`pg_terminate_backend`, only on the soak's own database);
- edits offers' local values through the API every 30 s.

At the end it stops the faults and the drift, stops beat, lets one clean cycle run
(acknowledge, a full offer sync, a full order sync, a health check) and checks: the offer and
order tables equal the sandbox's (each row once), every local edit is intact or resolved by
the run's conflict strategy, no run is left queued or running (no claim held), every failed or
partial run names its cause, and the alerting (incidents, webhook) saw incidents open and
saw each of them resolved. It prints one table and, unless SOAK_UPDATE_DOC=0, puts it in
docs/RELIABILITY.md as its own section (the rest of that report stays).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/magflow SOAK_MINUTES=2 make soak

SOAK_DATABASE_URL names the database to sit next to instead of DATABASE_URL's;
SOAK_REDIS_PORT, SOAK_WEB_PORT, SOAK_SANDBOX_PORT and SOAK_WEBHOOK_PORT fix the ports
(default: free ones); SOAK_FAULT_RATE is the share of calls failing (default 0.10).
"""

import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402

from scripts.production_check import (  # noqa: E402
    CheckFailed,
    Process,
    check_database_url,
    drop_database,
    free_port,
    production_environment,
    recreate_database,
    run_setup,
    sandbox_process,
    start_service,
    wait_for,
)
from tests.webhook_receiver import WebhookReceiver  # noqa: E402

ACCOUNTS = ("main", "fbe")
OFFERS = "main=3000,fbe=1500"
ORDERS = "main=500,fbe=300"
SEED = 19
DRIFT_EVERY = 20.0
EDIT_EVERY = 30.0
# Beat's entries, sped up from hours and minutes to seconds: (seconds, expires after).
SPED_UP = {
    "emag_sync.sync_products:incremental": 45,
    "emag_sync.sync_products:full": 150,
    "emag_sync.sync_orders": 30,
    "emag_sync.acknowledge_orders": 60,
    "emag_sync.health_check": 20,
}
# What the app is told, on top of the production profile: short waits so minutes are enough.
SOAK_SETTINGS = {
    "EMAG_TIMEOUT": "3",
    "EMAG_MAX_RETRIES": "4",
    "EMAG_RETRY_MAX_WAIT": "2",
    "EMAG_RETRY_DEADLINE": "20",
    "EMAG_SECOND_CHANCE_PAUSE": "2",
    "SYNC_REAP_AFTER": "20",
    "SYNC_OFFERS_TIME_LIMIT": "600",
    "SYNC_ORDERS_TIME_LIMIT": "180",
    # The sandbox dates its orders over the last 120 days.
    "EMAG_ORDERS_INITIAL_DAYS": "121",
}
# Slow answers last past EMAG_TIMEOUT, so a "timeout" fault is a real client timeout.
SLOW_SECONDS = 4.0
FINAL_WAIT_SECONDS = 300
DOC = ROOT / "docs" / "RELIABILITY.md"
DOC_HEADING = "## Chaos soak (`make soak`)"
# Throwaway credentials of a temporary soak database.
ADMIN_USERNAME = "soak"
ADMIN_PASSWORD = "soak-test-password-1"  # nosec B105


class Soak:
    """Everything the soak started, and what it counted."""

    def __init__(self, minutes: float, logs: Path) -> None:
        self.minutes = minutes
        self.logs = logs
        self.redis_port = int(os.environ.get("SOAK_REDIS_PORT") or free_port())
        self.web_port = int(os.environ.get("SOAK_WEB_PORT") or free_port())
        self.sandbox_port = int(os.environ.get("SOAK_SANDBOX_PORT") or free_port())
        self.webhook_port = int(os.environ.get("SOAK_WEBHOOK_PORT") or 0)
        self.fault_rate = float(os.environ.get("SOAK_FAULT_RATE") or 0.10)
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.processes: dict[str, Process] = {}
        self.counts: Counter[str] = Counter()
        self.edits: dict[int, tuple[str, datetime]] = {}
        # Seeded generator choosing offers to edit, not security.
        self.rng = random.Random(SEED)  # nosec B311
        self.env: dict[str, str] = {}

    # --- processes ----------------------------------------------------------------------

    def start_redis(self) -> None:
        data = self.logs / "redis"
        data.mkdir(exist_ok=True)
        # As in docker-compose.yml: append-only, so a restart keeps the queued messages.
        command = [
            shutil.which("redis-server") or "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.redis_port),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--dir",
            str(data),
        ]
        self.processes["redis"] = Process("redis", command, os.environ.copy(), self.logs)
        client = redis.Redis.from_url(self.redis_url)
        wait_for("redis", lambda: _pings(client), time.monotonic() + 20, [self.processes["redis"]])
        client.close()

    def start(self, name: str) -> None:
        self.processes[name] = start_service(name, self.env, self.logs, web_port=self.web_port)

    def alive(self) -> list[Process]:
        return [process for process in self.processes.values()]

    def kill_worker(self) -> None:
        from emag_sync.models import SyncRun, SyncStatus

        # Kill it mid-run when one starts soon: that is the kill that tests something.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if SyncRun.objects.filter(status=SyncStatus.RUNNING).exists():
                self.counts["kills that interrupted a run"] += 1
                break
            time.sleep(0.5)
        worker = self.processes["worker"]
        os.killpg(worker.popen.pid, signal.SIGKILL)
        worker.popen.wait(timeout=10)
        self.counts["worker SIGKILLs"] += 1
        log("SIGKILLed the worker (its whole process group); starting a new one")
        os.rename(worker.log_path, self.logs / f"worker-{self.counts['worker SIGKILLs']}.log")
        self.start("worker")

    def restart_redis(self) -> None:
        self.processes["redis"].stop()
        time.sleep(3)
        self.start_redis()
        self.counts["Redis restarts"] += 1
        log("restarted Redis (3 s down)")

    def terminate_database_connections(self, database: str, maintenance_url: str) -> None:
        with psycopg.connect(maintenance_url, autocommit=True) as db:
            killed = db.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()[0][0]
        from django.db import connections

        connections.close_all()
        self.counts["database connections terminated"] += killed
        self.counts["pg_terminate_backend rounds"] += 1
        log(f"terminated {killed} connections to {database}")

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    # --- the sandbox and the API ----------------------------------------------------------

    def sandbox(self, method: str, path: str, body: dict | None = None):
        return _request(method, f"http://127.0.0.1:{self.sandbox_port}/_sandbox/{path}", body)

    def faults_on(self) -> None:
        self.sandbox(
            "POST",
            "faults/random",
            {"rate": self.fault_rate, "seed": SEED, "slow_seconds": SLOW_SECONDS},
        )

    def api(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        headers = {"X-Forwarded-Proto": "https"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = f"http://127.0.0.1:{self.web_port}/api/v2/{path}"
        return _request(method, url, body, headers)

    def edit_an_offer(self) -> None:
        from emag_sync.models import Offer

        ids = list(
            Offer.objects.filter(missing_since__isnull=True).values_list("pk", flat=True)[:4000]
        )
        if not ids:
            log("no offer to edit yet")
            return
        pk = self.rng.choice(ids)
        name = f"Soak edit {len(self.edits) + 1} ({pk})"
        tokens = self.api(
            "POST", "auth/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        before = datetime.now(UTC)
        self.api("PATCH", f"emag/products/products/{pk}", {"name": name}, tokens["access"])
        self.edits[pk] = (name, before)
        self.counts["local edits through the API"] += 1


def log(message: str) -> None:
    print(f"soak {datetime.now(UTC):%H:%M:%S}: {message}", flush=True)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _request(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        # Only the soak's own local servers.
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310
            payload = response.read()
    except urllib.error.HTTPError as error:
        raise CheckFailed(f"{method} {url} answered {error.code}: {error.read()[:300]!r}") from None
    return json.loads(payload) if payload else None


def speed_up_schedule() -> None:
    """Turn the default schedule's crontabs into intervals of seconds."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for task in PeriodicTask.objects.all():
        mode = json.loads(task.kwargs or "{}").get("mode")
        key = f"{task.task}:{mode}" if task.task == "emag_sync.sync_products" else task.task
        seconds = SPED_UP.get(key)
        if seconds is None:
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        task.crontab, task.interval = None, interval
        task.expire_seconds = seconds
        task.save()


def create_admin() -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(ADMIN_USERNAME, "soak@example.com", ADMIN_PASSWORD)


def first_sync(soak: Soak) -> None:
    """Sync offers and orders in full once, as `make run` does on a first start."""
    from emag_sync.models import SyncRun
    from emag_sync.tasks import sync_orders_task, sync_products_task

    for task in (sync_products_task, sync_orders_task):
        task.apply_async(kwargs={"account": "all", "mode": "full", "triggered_by": "soak: start"})
    wait_for(
        "the first full syncs",
        lambda: SyncRun.objects.filter(finished_at__isnull=False).count() >= 2 * len(ACCOUNTS),
        time.monotonic() + FINAL_WAIT_SECONDS,
        soak.alive(),
    )


def chaos(soak: Soak, database: str, maintenance_url: str) -> None:
    """Run the soak's minutes: drift, faults, kills, restarts and edits on their timetable."""
    seconds = soak.minutes * 60
    started = time.monotonic()
    kill_every = min(240.0, seconds / 3)
    timetable = [(kill_every * n, "kill") for n in range(1, int(seconds // kill_every) + 1)]
    timetable += [
        (seconds * 0.25, "outage"),
        (seconds * 0.45, "redis"),
        (seconds * 0.65, "postgres"),
    ]
    timetable = sorted(event for event in timetable if event[0] < seconds - 5)
    outage_seconds = min(60.0, seconds * 0.1)
    outage_ends = None
    next_drift, next_edit = DRIFT_EVERY, 10.0
    soak.faults_on()
    while (elapsed := time.monotonic() - started) < seconds:
        for process in soak.alive():
            process.alive()
        if outage_ends is not None and elapsed >= outage_ends:
            soak.sandbox("DELETE", "faults")
            soak.faults_on()
            outage_ends = None
            log("eMAG is back (random faults again)")
        while timetable and timetable[0][0] <= elapsed:
            _, event = timetable.pop(0)
            if event == "kill":
                soak.kill_worker()
            elif event == "outage":
                soak.sandbox("POST", "faults", {"kind": "http_503", "count": None})
                soak.counts["eMAG outages"] += 1
                outage_ends = elapsed + outage_seconds
                log(f"eMAG is down: every call fails for {outage_seconds:.0f} s")
            elif event == "redis":
                soak.restart_redis()
            elif event == "postgres":
                soak.terminate_database_connections(database, maintenance_url)
        if elapsed >= next_drift:
            soak.sandbox("POST", "drift", {"changes": 15})
            soak.counts["sandbox drift rounds"] += 1
            next_drift += DRIFT_EVERY
        if elapsed >= next_edit:
            try:
                soak.edit_an_offer()
            except CheckFailed as error:
                # The API may answer 5xx for a moment while its database or Redis restarts;
                # an edit that did not happen is not checked, but it is counted.
                soak.counts["API edits refused"] += 1
                log(f"an edit failed: {error}")
            next_edit += EDIT_EVERY
        time.sleep(1.0)
    if outage_ends is not None:
        soak.sandbox("DELETE", "faults")


def settle(soak: Soak) -> datetime:
    """Stop faults, drift and beat, wait until no run is active; return when that was."""
    from emag_sync.models import ACTIVE_STATUSES, SyncRun
    from emag_sync.services.sync_runs import sync_run_reap

    soak.sandbox("DELETE", "faults")
    soak.processes.pop("beat").stop()
    log("faults and drift stopped, beat stopped; waiting for the runs in flight")
    deadline = time.monotonic() + FINAL_WAIT_SECONDS

    def idle() -> bool:
        # A killed worker's run has a cold heartbeat: reaped as any later claim would.
        sync_run_reap()
        return not SyncRun.objects.filter(status__in=ACTIVE_STATUSES).exists()

    wait_for("the runs in flight to end", idle, deadline, soak.alive())
    return datetime.now(UTC)


def clean_cycle(soak: Soak) -> list:
    """Acknowledge, sync offers and orders in full, then check health; return the runs."""
    from emag_sync.models import HealthCheck, SyncRun
    from emag_sync.tasks import (
        acknowledge_orders_task,
        health_check_task,
        sync_orders_task,
        sync_products_task,
    )

    deadline = time.monotonic() + FINAL_WAIT_SECONDS
    started = datetime.now(UTC)

    def step(kind: str, task, **kwargs) -> list:
        since = datetime.now(UTC)
        task.apply_async(kwargs={**kwargs, "account": "all", "triggered_by": "soak: clean cycle"})

        def finished():
            done = SyncRun.objects.filter(
                kind=kind, created_at__gte=since, finished_at__isnull=False
            )
            return list(done) if done.count() == len(ACCOUNTS) else None

        return wait_for(f"the clean cycle's {kind} runs", finished, deadline, soak.alive())

    runs = step("acknowledge", acknowledge_orders_task)
    offers = step("offers", sync_products_task, mode="full")
    if any(run.resumed_from_page for run in offers):
        # It finished a pass a killed or partial run began, which marks nothing missing; the
        # next full run reads a whole pass of its own, as the nightly schedule would.
        runs += offers
        offers = step("offers", sync_products_task, mode="full")
    runs += offers
    # Incremental: every order eMAG modified since the cursor, old ones included.
    runs += step("orders", sync_orders_task, mode="incremental")
    health_check_task.apply_async()
    wait_for(
        "the final health check",
        lambda: HealthCheck.objects.filter(checked_at__gte=started).exists(),
        deadline,
        soak.alive(),
    )
    return runs


def compare(soak: Soak, clean_runs: list, receiver: WebhookReceiver) -> list[tuple[str, str, bool]]:
    """Check the end state; return (check, figure, passed) rows."""
    from django.db.models import Count

    from emag_sync.models import (
        ACTIVE_STATUSES,
        AlertIncident,
        LocalEdit,
        Offer,
        OfferChange,
        Order,
        SyncRun,
    )

    rows: list[tuple[str, str, bool]] = []
    rows.append(
        (
            "Clean cycle runs completed",
            f"{sum(run.status == 'completed' for run in clean_runs)} of {len(clean_runs)}",
            all(run.status == "completed" for run in clean_runs),
        )
    )
    compared = mismatched = 0
    for account in ACCOUNTS:
        remote_offers = {o["id"]: o for o in soak.sandbox("GET", f"offers/{account}")}
        present = Offer.objects.filter(account=account, missing_since__isnull=True)
        stored = dict(present.values_list("emag_id", "raw"))
        compared += len(remote_offers)
        mismatched += len(set(stored) ^ set(remote_offers))
        mismatched += sum(stored[i] != remote_offers[i] for i in set(stored) & set(remote_offers))
        remote_orders = {o["id"]: o for o in soak.sandbox("GET", f"orders/{account}")}
        orders = dict(Order.objects.filter(account=account).values_list("emag_id", "raw"))
        compared += len(remote_orders)
        mismatched += len(set(orders) ^ set(remote_orders))
        mismatched += sum(orders[i] != remote_orders[i] for i in set(orders) & set(remote_orders))
    duplicates = sum(
        model.objects.values("account", "emag_id").annotate(n=Count("id")).filter(n__gt=1).count()
        for model in (Offer, Order)
    )
    rows.append(("Rows compared with the sandbox (offers + orders)", f"{compared:,}", compared > 0))
    rows.append(("Mismatches", str(mismatched), mismatched == 0))
    rows.append(("Rows stored twice", str(duplicates), duplicates == 0))

    intact = resolved = lost = 0
    for pk, (name, edited_at) in soak.edits.items():
        edit = LocalEdit.objects.filter(offer_id=pk, field="name").first()
        if edit is not None and edit.value == name:
            intact += 1
        elif (
            edit is None
            and OfferChange.objects.filter(
                offer_id=pk, field="name", changed_at__gte=edited_at
            ).exists()
        ):
            resolved += 1  # eMAG changed the name later: emag_priority dropped the edit
        else:
            lost += 1
    rows.append(
        (
            "Local edits intact / resolved by the strategy / lost",
            f"{intact} / {resolved} / {lost}",
            lost == 0 and bool(soak.edits),
        )
    )
    active = SyncRun.objects.filter(status__in=ACTIVE_STATUSES).count()
    rows.append(("Runs left queued or running (claims held)", str(active), active == 0))
    broken = SyncRun.objects.filter(status__in=["failed", "partial"])
    without_cause = [
        run.pk
        for run in broken
        if not any(isinstance(e, dict) and e.get("message") for e in run.errors or [])
    ]
    rows.append(
        (
            "Failed or partial runs without a cause",
            f"{len(without_cause)} of {broken.count()}",
            not without_cause,
        )
    )
    by_status = Counter(SyncRun.objects.values_list("status", flat=True))
    rows.append(
        (
            "Runs by status",
            ", ".join(f"{status} {n}" for status, n in sorted(by_status.items())),
            True,
        )
    )
    totals = SyncRun.objects.values_list("retries", "pages_second_chance", "throttled")
    rows.append(
        (
            "Retries / pages given a second chance / 429s (all runs)",
            " / ".join(str(sum(column)) for column in zip(*totals, strict=True))
            if totals
            else "0 / 0 / 0",
            True,
        )
    )
    incidents = AlertIncident.objects.all()
    still_open = incidents.filter(resolved_at__isnull=True).count()
    kinds = Counter(incidents.values_list("kind", flat=True))
    rows.append(
        (
            "Incidents opened / still open at the end",
            f"{incidents.count()} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})"
            f" / {still_open}",
            incidents.count() > 0 and still_open == 0,
        )
    )
    opened, resolved_events = len(receiver.events("opened")), len(receiver.events("resolved"))
    rows.append(
        (
            "Webhook alerts: opened / resolved",
            f"{opened} / {resolved_events}",
            opened > 0 and opened == resolved_events == incidents.count(),
        )
    )
    served = soak.sandbox("GET", "faults/served")["served"]
    rows.append(
        (
            "eMAG faults served",
            f"{sum(served.values()):,} ({', '.join(f'{k} {n}' for k, n in served.items())})",
            sum(served.values()) > 0,
        )
    )
    reaped = sum(
        any("reaped" in str(e.get("message", "")) for e in run.errors or [] if isinstance(e, dict))
        for run in broken
    )
    rows.append(("Runs of a killed worker, reaped to failed", str(reaped), True))
    broker = redis.Redis.from_url(soak.redis_url)
    queued = sum(broker.llen(queue) for queue in ("emag_offers", "emag_orders"))
    unacked = broker.hlen("unacked")
    broker.close()
    rows.append(("Task messages left in the queues", str(queued), queued == 0))
    rows.append(
        (
            "Messages of killed workers awaiting redelivery (harmless: single-flight)",
            str(unacked),
            True,
        )
    )
    for name, label in (
        ("worker SIGKILLs", "Worker SIGKILLs (whole process group)"),
        ("kills that interrupted a run", "Kills that interrupted a run"),
        ("Redis restarts", "Redis restarts"),
        ("pg_terminate_backend rounds", "`pg_terminate_backend` rounds"),
        ("database connections terminated", "Database connections terminated"),
        ("eMAG outages", "eMAG outages (every call failing)"),
        ("sandbox drift rounds", "Sandbox drift rounds (15 changes each)"),
        ("local edits through the API", "Local edits through the API"),
        ("API edits refused", "API edits refused (API down for a moment)"),
    ):
        rows.append((label, str(soak.counts[name]), True))
    return rows


def table(rows: list[tuple[str, str, bool]]) -> str:
    lines = ["| Check | Figure | Passed |", "|---|---|---|"]
    lines += [f"| {check} | {figure} | {'yes' if ok else '**NO**'} |" for check, figure, ok in rows]
    return "\n".join(lines)


def update_doc(report: str) -> None:
    """Put the report in docs/RELIABILITY.md as its own section, replacing an older one."""
    text = DOC.read_text()
    start = text.find(DOC_HEADING)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + report + "\n"
    else:
        end = text.find("\n## ", start + len(DOC_HEADING))
        text = text[:start] + report + ("\n" + text[end:] if end != -1 else "\n")
    DOC.write_text(text)


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES") or 20)
    base_url = os.environ.get("SOAK_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        print("soak: DATABASE_URL (PostgreSQL) must be set; a <name>_soak database is used")
        return 2
    if not shutil.which("redis-server"):
        print("soak: redis-server is not installed")
        return 2
    database_url, database, maintenance_url = check_database_url(base_url, "_soak")
    logs = Path(tempfile.mkdtemp(prefix="magflow-soak-"))
    soak = Soak(minutes, logs)
    receiver = WebhookReceiver(port=soak.webhook_port)
    began = time.monotonic()
    log(f"{minutes:g} minutes on {database}, Redis on port {soak.redis_port}; logs in {logs}")
    try:
        soak.start_redis()
        recreate_database(maintenance_url, database, create=True)
        soak.env = production_environment(database_url, soak.redis_url, soak.sandbox_port)
        soak.env.update(SOAK_SETTINGS, ALERT_WEBHOOK_URL=receiver.url)
        run_setup(soak.env)
        os.environ.update(soak.env)
        import django

        django.setup()
        speed_up_schedule()
        create_admin()
        soak.processes["sandbox"] = sandbox_process(
            soak.env, logs, soak.sandbox_port, "--offers", OFFERS, "--orders", ORDERS
        )
        wait_for(
            "the sandbox",
            lambda: _sandbox_up(soak),
            time.monotonic() + 60,
            soak.alive(),
        )
        for name in ("web", "worker", "beat"):
            soak.start(name)
        first_sync(soak)
        log(f"production profile up and synced in {time.monotonic() - began:.0f} s; chaos begins")
        chaos(soak, database, maintenance_url)
        settle(soak)
        clean_runs = clean_cycle(soak)
        rows = compare(soak, clean_runs, receiver)
        took = (time.monotonic() - began) / 60
        report = (
            f"{DOC_HEADING}\n\n"
            f"One run of `make soak` with SOAK_MINUTES={minutes:g} on "
            f"{datetime.now(UTC):%Y-%m-%d}, {took:.0f} minutes in all, on a 2-core machine "
            "shared with other jobs: gunicorn, a Celery worker and beat (schedules in "
            "seconds) on PostgreSQL and a Redis of its own, against the sandbox "
            f"({OFFERS.replace(',', ', ')} offers; {ORDERS.replace(',', ', ')} orders) "
            f"drifting every {DRIFT_EVERY:g} s with random faults on "
            f"{soak.fault_rate:.0%} of calls. The figures are the end state after one "
            "clean cycle.\n\n" + table(rows) + "\n"
        )
        print(report)
        passed = all(ok for _, _, ok in rows)
        if passed and os.environ.get("SOAK_UPDATE_DOC", "1") != "0":
            update_doc(report)
        log("PASSED" if passed else "FAILED: see the rows marked NO")
        return 0 if passed else 1
    except Exception as error:
        print(f"soak: FAILED: {error}")
        for process in soak.processes.values():
            print(f"--- last lines of {process.name} ---")
            print("\n".join(process.log().splitlines()[-30:]))
        return 1
    finally:
        soak.stop_all()
        receiver.server.shutdown()
        drop_database(maintenance_url, database, who="soak")


def _sandbox_up(soak: Soak) -> bool:
    try:
        return bool(soak.sandbox("GET", "health"))
    except (OSError, CheckFailed):
        return False


if __name__ == "__main__":
    sys.exit(main())
