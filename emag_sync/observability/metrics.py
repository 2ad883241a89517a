"""Define the counters and histograms every process updates, and the calls that update them.

prometheus_client runs in multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (gunicorn's
workers, Celery's pool, `make run`): each process writes its samples to files in that folder,
and a scrape adds them up. The folder is emptied by the process that starts the others
(scripts/run.py, the docker entrypoint), never by one of them, or it would erase the counts of
its siblings. Without the variable (tests, a single process) the default registry is used.

These are counters since the folder was emptied; what the database says (freshness, backlog)
is read at scrape time by gauges.py and kept apart.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

from emag_sync.models import SyncKind, SyncStatus

RUN_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
REQUEST_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LIMITER_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
ITEM_OUTCOMES = ("seen", "created", "updated", "unchanged", "failed", "missing")
PUSH_OUTCOMES = ("applied", "rejected", "uncertain")

SYNC_RUNS_STARTED = Counter(
    "magflow_sync_runs_started_total", "Sync runs that began running.", ["account", "stream"]
)
SYNC_RUNS_FINISHED = Counter(
    "magflow_sync_runs_finished_total",
    "Sync runs that ended, by final status.",
    ["account", "stream", "status"],
)
SYNC_RUN_DURATION = Histogram(
    "magflow_sync_run_duration_seconds",
    "Time from a run's start to its end.",
    ["account", "stream"],
    buckets=RUN_DURATION_BUCKETS,
)
SYNC_ITEMS = Counter(
    "magflow_sync_items_total",
    "Offers or orders a finished run saw, by outcome (from its final tallies).",
    ["account", "stream", "outcome"],
)
PUSHES = Counter(
    "magflow_pushes_total",
    "Local values pushed to eMAG, by outcome (the push stream records them).",
    ["account", "outcome"],
)
EMAG_REQUESTS = Counter(
    "magflow_emag_requests_total",
    "HTTP requests to eMAG (each attempt), by resource, action and HTTP status.",
    ["account", "resource", "action", "status"],
)
EMAG_REQUEST_DURATION = Histogram(
    "magflow_emag_request_duration_seconds",
    "Time of one HTTP request to eMAG.",
    ["account", "resource", "action"],
    buckets=REQUEST_DURATION_BUCKETS,
)
EMAG_RETRIES = Counter(
    "magflow_emag_retries_total", "Attempts of an eMAG call after its first.", ["account"]
)
EMAG_FAULTS = Counter(
    "magflow_emag_faults_total",
    "eMAG calls that failed after their retries, by kind of error.",
    ["account", "kind"],
)
LIMITER_WAIT = Histogram(
    "magflow_rate_limiter_wait_seconds",
    "Time an eMAG request waited for the client-side rate limiter.",
    ["account", "bucket"],
    buckets=LIMITER_WAIT_BUCKETS,
)
# livesum: the pages of processes still alive, added up; a dead process's share goes with it
# (gunicorn's child_exit and the worker's process shutdown call mark_process_dead).
PAGES_IN_FLIGHT = Gauge(
    "magflow_pages_in_flight",
    "eMAG pages being read right now.",
    ["account", "stream"],
    multiprocess_mode="livesum",
)

# An action carries an id for some calls (order/acknowledge/123): labels keep the action only.
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def normalised_action(action: str) -> str:
    """Return an eMAG action without the ids some calls carry in their path."""
    return _ID_SEGMENT.sub("", action)


def run_started(*, account: str, stream: str) -> None:
    """Count a run that began running."""
    SYNC_RUNS_STARTED.labels(account, stream).inc()


def run_finished(run) -> None:
    """Count a run that ended, with its duration and the final tallies of its items."""
    SYNC_RUNS_FINISHED.labels(run.account, run.kind, run.status).inc()
    if run.duration_seconds is not None:
        SYNC_RUN_DURATION.labels(run.account, run.kind).observe(run.duration_seconds)
    for outcome in ITEM_OUTCOMES:
        count = getattr(run, f"items_{outcome}", 0) or 0
        if count:
            SYNC_ITEMS.labels(run.account, run.kind, outcome).inc(count)
    if run.kind == "push":
        pushes_record(
            account=run.account,
            applied=run.items_applied,
            rejected=run.items_rejected,
            uncertain=run.items_uncertain,
        )


def pushes_record(*, account: str, applied: int = 0, rejected: int = 0, uncertain: int = 0):
    """Count the outcomes of a finished push run."""
    for outcome, count in zip(PUSH_OUTCOMES, (applied, rejected, uncertain), strict=True):
        if count:
            PUSHES.labels(account, outcome).inc(count)


def emag_request_observe(
    *, account: str, resource: str, action: str, status: int | None, seconds: float
) -> None:
    """Count one HTTP attempt to eMAG and its time; `status` None: no answer came."""
    action = normalised_action(action)
    EMAG_REQUESTS.labels(account, resource, action, str(status or "none")).inc()
    EMAG_REQUEST_DURATION.labels(account, resource, action).observe(seconds)


def emag_call_observe(*, account: str, attempts: int, error: BaseException | None) -> None:
    """Count a finished eMAG call's retries and, when it failed, the kind of its error."""
    if attempts > 1:
        EMAG_RETRIES.labels(account).inc(attempts - 1)
    if error is not None:
        EMAG_FAULTS.labels(account, type(error).__name__).inc()


def limiter_wait_observe(*, account: str, bucket: str, seconds: float) -> None:
    """Record how long a request waited for the rate limiter."""
    LIMITER_WAIT.labels(account, bucket).observe(seconds)


@contextmanager
def page_in_flight(*, account: str, stream: str) -> Iterator[None]:
    """Count a page as being read while the block runs."""
    gauge = PAGES_IN_FLIGHT.labels(account, stream)
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def initialise_series() -> None:
    """Create every account's series at zero, so rates and alerts see them from the start."""
    for account in settings.EMAG_ACCOUNTS:
        account = account.strip().lower()
        EMAG_RETRIES.labels(account)
        for stream in SyncKind.values:
            SYNC_RUNS_STARTED.labels(account, stream)
            PAGES_IN_FLIGHT.labels(account, stream)
            for status in SyncStatus.values:
                SYNC_RUNS_FINISHED.labels(account, stream, status)
        for outcome in PUSH_OUTCOMES:
            PUSHES.labels(account, outcome)


initialise_series()
