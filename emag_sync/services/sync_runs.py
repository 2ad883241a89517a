"""Write the lifecycle of a SyncRun: claim, heartbeat, progress, finish, cancel and reap.

A run is claimed by inserting it as queued or running: a partial unique constraint allows
one queued-or-running run per (account, stream), so two triggers racing on two machines
cannot both win, and the loser leaves nothing behind. A heartbeat thread renews the
claim; a run whose heartbeat goes cold is reaped to `failed`, which frees the claim. A
queued run whose task message the broker no longer holds (lost with a worker, purged, a
broker reset) is failed by the workers' reaper too: the broker is asked, never the run's age
alone, since a run may rightly wait behind a long sync.
"""

import logging
import threading
from datetime import timedelta

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from emag_sync.models import ACTIVE_STATUSES, SyncKind, SyncMode, SyncRun, SyncStatus
from emag_sync.observability import metrics
from emag_sync.services.request_log import request_log_write

logger = logging.getLogger(__name__)

# A queued run is asked about only after SYNC_QUEUED_GRACE (90 s): the time its task message
# takes from the sender's commit to the broker and on to a worker. Past it, the workers'
# reaper fails the run when the broker no longer holds its message, so a lost message frees
# its stream within SYNC_QUEUED_GRACE plus one heartbeat interval (under 2 minutes).
MAX_ERRORS_KEPT = 50
LOST_MESSAGE = (
    "reaped: its task message is no longer in the broker (lost with a worker, purged or "
    "a broker reset); start the sync again"
)


def sync_run_task_id(run_id: int) -> str:
    """Return the Celery task id a queued run's message is sent under (to find it later)."""
    return f"sync-run-{run_id}"


def sync_run_task_send(run: SyncRun, task: Task, **arguments: object) -> None:
    """Send a queued run's task to the workers, or fail the run at once if the broker refuses.

    A broker that is down must not leave the run queued (and its stream blocked) until the
    reaper frees it. The task is sent under the run's own id, so a lost message can be found.
    """
    try:
        task.apply_async(
            kwargs={"account": run.account, **arguments, "run_id": run.pk},
            task_id=sync_run_task_id(run.pk),
        )
    except Exception as error:
        logger.exception("Could not queue the %s run #%s", run.kind, run.pk)
        sync_run_finish(
            run=run,
            status=SyncStatus.FAILED,
            errors=[{"message": f"could not queue the run: {type(error).__name__}: {error}"}],
        )


class SyncAlreadyRunning(Exception):
    """Another run of the same stream for the same account is queued or running."""

    def __init__(self, account: str, kind: str, run: SyncRun | None):
        self.account, self.kind, self.run = account, kind, run
        # In English: workers and commands log it; `explained` is the reader's version.
        where = f" (run #{run.pk}, {run.status})" if run else ""
        super().__init__(f"a {kind} sync of account {account!r} is already running{where}")

    def explained(self) -> str:
        """Return the refusal in the active language, for a person reading an answer."""
        if self.run is None:
            return gettext("a %(kind)s sync of account %(account)r is already running") % {
                "kind": self.kind,
                "account": self.account,
            }
        return gettext(
            "a %(kind)s sync of account %(account)r is already running (run #%(run)s, %(status)s)"
        ) % {
            "kind": self.kind,
            "account": self.account,
            "run": self.run.pk,
            "status": self.run.status,
        }


class SyncRunLost(Exception):
    """The run was reaped or finished by someone else while this process still worked on it."""


def sync_run_reap(
    *, account: str | None = None, kind: str | None = None, lost_queued: bool = False
) -> int:
    """Mark runs whose heartbeat went cold as failed; return how many were reaped.

    With `lost_queued` (a Celery worker's reaper, which also sees the messages it holds),
    queued runs whose task message the broker no longer holds are failed too.
    """
    now = timezone.now()
    stale_running = Q(status=SyncStatus.RUNNING) & (
        Q(heartbeat_at__lt=now - timedelta(seconds=settings.SYNC_REAP_AFTER))
        | Q(
            heartbeat_at__isnull=True,
            created_at__lt=now - timedelta(seconds=settings.SYNC_REAP_AFTER),
        )
    )
    runs = SyncRun.objects.filter(stale_running)
    if lost_queued:
        runs = runs | SyncRun.objects.filter(
            status=SyncStatus.QUEUED,
            created_at__lt=now - timedelta(seconds=settings.SYNC_QUEUED_GRACE),
        )
    if account:
        runs = runs.filter(account=account)
    if kind:
        runs = runs.filter(kind=kind)
    reaped = 0
    for run in runs.only("pk", "status", "errors", "heartbeat_at", "account", "kind"):
        if run.status == SyncStatus.QUEUED:
            from magflow.broker import broker_holds_task

            if broker_holds_task(task_id=sync_run_task_id(run.pk)):
                continue
            message = LOST_MESSAGE
        elif run.heartbeat_at:
            message = f"reaped: no heartbeat since {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            message = "reaped: the run never started"
        errors = [*run.errors, {"message": message, "at": now.isoformat()}][-MAX_ERRORS_KEPT:]
        if SyncRun.objects.filter(pk=run.pk, status=run.status).update(
            status=SyncStatus.FAILED, finished_at=now, errors=errors
        ):
            reaped += 1
            metrics.SYNC_RUNS_FINISHED.labels(run.account, run.kind, SyncStatus.FAILED).inc()
    if reaped:
        logger.error("Reaped %d sync run(s): a cold heartbeat or a lost task message", reaped)
    return reaped


def sync_run_claim(
    *,
    account: str,
    kind: str,
    mode: str = SyncMode.FULL,
    conflict_strategy: str = "emag_priority",
    parameters: dict | None = None,
    triggered_by: str = "",
    queued: bool = False,
) -> SyncRun:
    """Create the single active run of (account, kind), or raise SyncAlreadyRunning."""
    sync_run_reap(account=account, kind=kind)
    now = timezone.now()
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                kind=kind,
                account=account,
                mode=mode,
                conflict_strategy=conflict_strategy,
                parameters=parameters or {},
                triggered_by=triggered_by[:150],
                status=SyncStatus.QUEUED if queued else SyncStatus.RUNNING,
                started_at=None if queued else now,
                heartbeat_at=None if queued else now,
            )
    except IntegrityError:
        holder = SyncRun.objects.filter(
            account=account, kind=kind, status__in=ACTIVE_STATUSES
        ).first()
        raise SyncAlreadyRunning(account, kind, holder) from None
    if not queued:
        metrics.run_started(account=account, stream=kind)
    return run


def sync_run_start(*, run_id: int) -> SyncRun:
    """Move a queued run to running; raise SyncRunLost if it is no longer queued."""
    now = timezone.now()
    started = SyncRun.objects.filter(pk=run_id, status=SyncStatus.QUEUED).update(
        status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    if not started:
        raise SyncRunLost(f"run #{run_id} is not queued any more")
    run = SyncRun.objects.get(pk=run_id)
    metrics.run_started(account=run.account, stream=run.kind)
    return run


def sync_run_finish(
    *,
    run: SyncRun,
    status: str,
    errors: list[dict] | None = None,
    warnings: list[dict] | None = None,
    **counters,
) -> SyncRun:
    """Record a run's final status, adding errors, warnings and final counters.

    Only a running run ends. Warnings (items stored with a field left empty) do not change
    the status; `items_warned` counts them all, the list keeps the last ones.
    """
    now = timezone.now()
    fresh = SyncRun.objects.get(pk=run.pk)
    all_errors = [*fresh.errors, *(errors or [])][-MAX_ERRORS_KEPT:]
    all_warnings = [*fresh.warnings, *(warnings or [])][-MAX_ERRORS_KEPT:]
    if fresh.cancel_requested and status == SyncStatus.COMPLETED:
        status = SyncStatus.CANCELLED
    finished = SyncRun.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).update(
        status=status,
        finished_at=now,
        heartbeat_at=now,
        errors=all_errors,
        warnings=all_warnings,
        **counters,
    )
    run.refresh_from_db()
    if finished:
        metrics.run_finished(run)
    return run


def sync_run_finish_after_error(
    *, run: SyncRun, error: BaseException, calls: list | None = None
) -> SyncRun | None:
    """End a run that an exception interrupted, so it never stays running.

    The task's soft time limit ends the run `partial`: every committed page kept its
    checkpoint, and the next run continues from there. SystemExit and KeyboardInterrupt (the
    process is being stopped) end it `interrupted`. Anything else ends it `failed`.
    The exception may have struck mid-query or killed the connection, so the run is
    finished on a fresh connection; if the database is gone too, the reaper fails the run
    once its heartbeat goes cold. The calls of the interrupted page are logged if possible.
    """
    if isinstance(error, SoftTimeLimitExceeded):
        status = SyncStatus.PARTIAL
        message = (
            "stopped at the task's soft time limit; the next run continues from the checkpoint"
        )
    elif isinstance(error, SystemExit | KeyboardInterrupt):
        # The process is being stopped (a worker's cold shutdown, Ctrl-C on the CLI): the
        # committed pages hold, so this is an interruption, not a failure.
        status = SyncStatus.INTERRUPTED
        message = (
            f"interrupted: the process was stopped ({type(error).__name__}); the next "
            "start resumes from the checkpoint"
        )
    else:
        status = SyncStatus.FAILED
        message = f"unexpected error: {type(error).__name__}: {error}"
    connection.close_if_unusable_or_obsolete()
    try:
        request_log_write(calls or [], run=run)
    except DatabaseError:
        logger.exception("Could not write the request log of run #%s", run.pk)
        connection.close()
    try:
        return sync_run_finish(run=run, status=status, errors=[{"message": message}])
    except DatabaseError:
        logger.exception("Could not finish run #%s; the reaper will", run.pk)
        return None


def sync_run_cancel(*, run_id: int) -> SyncRun:
    """Ask a run to stop between pages; a queued run is cancelled at once."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if not run.is_active:
            return run
        if run.status == SyncStatus.QUEUED:
            run.status = SyncStatus.CANCELLED
            run.finished_at = timezone.now()
        run.cancel_requested = True
        run.save(update_fields=["status", "finished_at", "cancel_requested"])
    return run


def sync_run_is_cancel_requested(*, run: SyncRun) -> bool:
    """Return whether someone asked the run to stop."""
    return SyncRun.objects.filter(pk=run.pk, cancel_requested=True).exists()


class Heartbeat:
    """Renew a run's claim from a background thread until stopped.

    If the run is no longer running when a beat lands (reaped by another process after a
    stall, or finished elsewhere), `lost` is set and the sync stops at the next page.
    """

    def __init__(self, run: SyncRun, interval: float | None = None):
        self.run_id = run.pk
        self.interval = interval or settings.SYNC_HEARTBEAT_INTERVAL
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-run-{run.pk}", daemon=True
        )

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    close_old_connections()
                    alive = SyncRun.objects.filter(
                        pk=self.run_id, status=SyncStatus.RUNNING
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # a missed beat is survivable; the reaper judges staleness
                    logger.exception("Heartbeat of run #%s failed", self.run_id)
                    connection.close()
                    continue
                if not alive:
                    self.lost.set()
                    return
        finally:
            connection.close()


__all__ = [
    "Heartbeat",
    "SyncAlreadyRunning",
    "SyncKind",
    "SyncRunLost",
    "sync_run_cancel",
    "sync_run_claim",
    "sync_run_finish",
    "sync_run_finish_after_error",
    "sync_run_is_cancel_requested",
    "sync_run_reap",
    "sync_run_start",
    "sync_run_task_id",
]
