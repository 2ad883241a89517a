"""Worker-side upkeep: every Celery worker reaps sync runs whose process died.

A run's heartbeat thread dies with its process (SIGKILL, OOM, a lost machine), leaving the
run `running` and its claim held. Any live worker notices within SYNC_REAP_AFTER plus one
heartbeat interval and marks it failed, so the next run of that stream can start and resume
from the checkpoint. Without a worker nothing syncs anyway, and the next claim reaps first.
"""

import logging

from celery import bootsteps

logger = logging.getLogger(__name__)


def reap_dead_runs() -> None:
    """Mark runs with a cold heartbeat failed; never let an error stop the worker."""
    from django.db import connection

    from emag_sync.services.sync_runs import sync_run_reap

    try:
        sync_run_reap()
    except Exception:  # the database may be restarting; the next round tries again
        logger.exception("Reaping dead sync runs failed")
    finally:
        # The worker's main process forks pool processes: it holds no connection between rounds.
        connection.close()


class DeadRunReaper(bootsteps.StartStopStep):
    """Call `reap_dead_runs` on the worker's timer, every heartbeat interval."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker) -> None:
        from django.conf import settings

        self.timer_entry = worker.timer.call_repeatedly(
            settings.SYNC_HEARTBEAT_INTERVAL, reap_dead_runs, priority=10
        )

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
