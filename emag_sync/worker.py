"""Worker-side upkeep: every Celery worker reaps sync runs whose process died.

A run's heartbeat thread dies with its process (SIGKILL, OOM, a lost machine), leaving the
run `running` and its claim held. Any live worker notices within SYNC_REAP_AFTER plus one
heartbeat interval and marks it failed, so the next run of that stream can start and resume
from the checkpoint. Without a worker nothing syncs anyway, and the next claim reaps first.
The reaper also fails queued runs whose task message the broker no longer holds.

On a warm shutdown (SIGTERM, SIGINT) a running sync stops after its current page and ends
`interrupted`; the next worker to start queues every interrupted full sync again, and it
continues from its checkpoint.

A worker started with METRICS_WORKER_PORT serves its processes' Prometheus counters there.
"""

import logging
import multiprocessing
import os

from celery import bootsteps
from celery.signals import worker_process_shutdown, worker_ready, worker_shutting_down

logger = logging.getLogger(__name__)

# Set in a worker's main process when it begins a warm shutdown (SIGTERM, or Ctrl-C / SIGINT);
# created before the pool forks, so every pool process sees it. A sync checks it between
# pages and ends `interrupted`, keeping its checkpoint, instead of being killed mid-page.
_STOPPING = multiprocessing.get_context("fork").Event()
INTERRUPTED_MESSAGE = (
    "interrupted: the worker was shutting down; the next start resumes from the checkpoint"
)


def worker_is_stopping() -> bool:
    """Return whether this process's Celery worker is shutting down."""
    return _STOPPING.is_set()


@worker_shutting_down.connect
def _note_worker_shutdown(**_kwargs) -> None:
    _STOPPING.set()


def reap_dead_runs() -> None:
    """Mark runs with a cold heartbeat failed; never let an error stop the worker."""
    from django.db import connection

    from emag_sync.services.sync_runs import sync_run_reap

    try:
        sync_run_reap(lost_queued=True)
    except Exception:  # the database may be restarting; the next round tries again
        logger.exception("Reaping dead sync runs failed")
    finally:
        # The worker's main process forks pool processes: it holds no connection between rounds.
        connection.close()


def resume_interrupted_syncs() -> None:
    """Queue the full syncs a shutdown interrupted; never let an error stop the worker."""
    from django.db import connection

    from emag_sync.services.sync_triggers import offer_syncs_resume_interrupted

    try:
        offer_syncs_resume_interrupted(triggered_by="resumed at worker start")
    except Exception:  # the database may be starting; the nightly full sync resumes anyway
        logger.exception("Resuming interrupted syncs failed")
    finally:
        connection.close()


class DeadRunReaper(bootsteps.StartStopStep):
    """Call `reap_dead_runs` on the worker's timer, every heartbeat interval; resume at start."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker) -> None:
        from django.conf import settings

        self.timer_entry = worker.timer.call_repeatedly(
            settings.SYNC_HEARTBEAT_INTERVAL, reap_dead_runs, priority=10
        )
        # A full sync a shutdown interrupted continues as soon as a worker is back.
        worker.timer.call_after(1.0, resume_interrupted_syncs, priority=10)

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None


@worker_ready.connect
def _serve_worker_metrics(**_kwargs) -> None:
    """Serve this worker's counters on METRICS_WORKER_PORT (unset: not served)."""
    from django.conf import settings

    if settings.METRICS_WORKER_PORT:
        from emag_sync.observability.exposition import worker_metrics_serve

        worker_metrics_serve(settings.METRICS_WORKER_PORT)


@worker_process_shutdown.connect
def _forget_live_gauges(**_kwargs) -> None:
    """Drop an exiting pool process's share of the live gauges (pages in flight)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())
