"""Check the installation's health, store what was seen, and alert on what is wrong.

One check looks at: the database and the broker; each account's eMAG reachability (one cheap,
authenticated count call); per account and stream, the age of the last successful sync and
how the latest run ended; and reaps runs whose heartbeat went cold. Problems become alert
incidents (see services/alerts.py): one alert when a problem starts, one when it ends.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone, translation

from emag_sync.accounts import EmagAccount, get_accounts
from emag_sync.client import ConnectionCheck, EmagClient
from emag_sync.models import (
    HealthCheck,
    HealthStatus,
    IncidentKind,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from emag_sync.probes import Probe, probe_broker, probe_database
from emag_sync.ratelimit import get_rate_limiter
from emag_sync.selectors import (
    sync_run_last_successful,
    sync_run_latest_finished,
    sync_run_oldest,
)
from emag_sync.services.alerts import Problem, alert_incidents_update
from emag_sync.services.request_log import request_log_write
from emag_sync.services.sync_runs import sync_run_reap

logger = logging.getLogger(__name__)

ALERTED_RUN_STATUSES = (SyncStatus.FAILED, SyncStatus.PARTIAL)


def health_check_run(*, now: datetime | None = None) -> HealthCheck:
    """Run every check once, store the result, update alert incidents, and return it."""
    started = time.monotonic()
    now = now or timezone.now()
    database = probe_database()
    broker = probe_broker()
    runs_reaped = sync_run_reap()
    accounts = _accounts_check()
    streams = [
        _stream_health(account=name, kind=kind, now=now)
        for name in get_accounts()
        for kind in SyncKind.values
    ]
    problems = _problems(database=database, broker=broker, accounts=accounts, streams=streams)
    if not (database.ok and broker.ok):
        status = HealthStatus.DOWN
    elif problems:
        status = HealthStatus.DEGRADED
    else:
        status = HealthStatus.OK
    check = HealthCheck.objects.create(
        checked_at=now,
        status=status,
        database_ok=database.ok,
        broker_ok=broker.ok,
        accounts={name: asdict(result) for name, result in accounts.items()},
        streams=streams,
        runs_reaped=runs_reaped,
        problems=[problem.as_dict() for problem in problems],
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    alert_incidents_update(problems=problems, now=now)
    logger.info("Health check #%s: %s, %d problem(s)", check.pk, status, len(problems))
    return check


def _accounts_check() -> dict[str, ConnectionCheck]:
    """Test every account's connection at once: each is slow only when eMAG is."""
    accounts = list(get_accounts().values())
    with ThreadPoolExecutor(max_workers=max(1, len(accounts)), thread_name_prefix="health") as pool:
        results = list(pool.map(_account_check, accounts))
    return {account.name: result for account, result in zip(accounts, results, strict=True)}


def _account_check(account: EmagAccount) -> ConnectionCheck:
    calls: list = []
    try:
        # Stored with the check (and behind its incidents and webhook): in English, the
        # record's one language, whichever language the worker or a reader uses.
        with (
            translation.override("en"),
            EmagClient(account, rate_limiter=get_rate_limiter(), on_call=calls.append) as client,
        ):
            result = client.test_connection()
        request_log_write(calls, run=None)
        return result
    finally:
        # A thread of our own: its connection (rate limiter, request log) ends with it.
        connections.close_all()


def _stream_health(*, account: str, kind: str, now: datetime) -> dict:
    """Describe one stream of one account: last success, its age, how the latest run ended."""
    last_success = sync_run_last_successful(account=account, kind=kind)
    latest = sync_run_latest_finished(account=account, kind=kind)
    minutes = settings.SYNC_STALE_AFTER_MINUTES.get(kind)
    stale_after = timedelta(minutes=minutes) if minutes else None
    last_success_at = last_success.finished_at if last_success else None
    if stale_after is None:
        # A stream that runs only when it has work (pushes) is judged by its runs alone.
        age = now - last_success_at if last_success_at else None
        stale = False
    elif last_success_at:
        age = now - last_success_at
        stale = age > stale_after
    else:
        # Never succeeded: stale once it has been trying for longer than a success may take.
        # A stream that never ran (not scheduled, or not deployed) is not judged at all.
        oldest = sync_run_oldest(account=account, kind=kind)
        age = None
        stale = bool(oldest and now - oldest.created_at > stale_after)
    return {
        "account": account,
        "stream": kind,
        "last_success_at": last_success_at.isoformat() if last_success_at else None,
        "age_seconds": round(age.total_seconds()) if age is not None else None,
        "stale_after_seconds": round(stale_after.total_seconds()) if stale_after else None,
        "stale": stale,
        "latest_run_id": latest.pk if latest else None,
        "latest_status": latest.status if latest else None,
        "latest_error": _first_error(latest) if latest else "",
    }


def _first_error(run: SyncRun) -> str:
    for error in run.errors or []:
        message = error.get("message") if isinstance(error, dict) else str(error)
        if message:
            return str(message)[:300]
    return ""


def _problems(
    *,
    database: Probe,
    broker: Probe,
    accounts: dict[str, ConnectionCheck],
    streams: list[dict],
) -> list[Problem]:
    """Name everything wrong in one check, each with the stable key its incident goes by."""
    problems = []
    for name, probe in (("database", database), ("broker", broker)):
        if not probe.ok:
            problems.append(
                Problem(
                    key=f"service:{name}",
                    kind=IncidentKind.SERVICE_DOWN,
                    message=f"The {name} is down: {probe.error}",
                )
            )
    for name, result in accounts.items():
        if not result.ok:
            problems.append(
                Problem(
                    key=f"account:{name}",
                    kind=IncidentKind.ACCOUNT_UNREACHABLE,
                    account=name,
                    message=f"eMAG account {name} is unreachable: {result.message}",
                )
            )
    for stream in streams:
        account, kind = stream["account"], stream["stream"]
        if stream["latest_status"] in ALERTED_RUN_STATUSES:
            detail = f": {stream['latest_error']}" if stream["latest_error"] else ""
            problems.append(
                Problem(
                    key=f"run:{account}:{kind}",
                    kind=IncidentKind.RUN_FAILED,
                    account=account,
                    stream=kind,
                    message=f"The last {kind} sync of {account} (run #{stream['latest_run_id']}) "
                    f"ended {stream['latest_status']}{detail}",
                )
            )
        if stream["stale"]:
            when = (
                f"last succeeded {_human_age(stream['age_seconds'])} ago"
                if stream["age_seconds"] is not None
                else "has never succeeded"
            )
            problems.append(
                Problem(
                    key=f"stale:{account}:{kind}",
                    kind=IncidentKind.STREAM_STALE,
                    account=account,
                    stream=kind,
                    message=f"The {kind} sync of {account} is stale: it {when}",
                )
            )
    return problems


def _human_age(seconds: int) -> str:
    if seconds < 2 * 3600:
        return f"{seconds // 60} minutes"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"
