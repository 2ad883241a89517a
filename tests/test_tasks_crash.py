"""A worker killed with SIGKILL mid-sync never leaves its run `running`, and nothing is lost.

The kill takes the whole worker (main process and pool) at once, as the OOM killer or a lost
machine would: no code of ours runs on the way down. Another worker reaps the run within
SYNC_REAP_AFTER of its last heartbeat, and the next sync resumes from the checkpoint.
"""

import time

import pytest

from emag_sync.models import Offer, SyncKind, SyncRun, SyncStatus
from emag_sync.tasks import sync_products_task
from tests.celery_processes import (
    TEST_REAP_AFTER,
    child_environment,
    send,
    start_worker,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OFFERS = 1274  # 13 pages
# Heartbeat interval (SYNC_REAP_AFTER / 6) plus the reaper's round on the other worker.
REAP_SLACK_SECONDS = 2 * TEST_REAP_AFTER / 6 + 1


def test_a_sigkilled_worker_s_run_is_reaped_in_time_and_the_next_run_resumes_it(
    broker_url, live_sandbox, tmp_path
):
    sandbox, server = live_sandbox(offers={"main": OFFERS, "fbe": 10})
    sandbox.inject_fault(
        "main", "timeout", count=None, action="product_offer/read", slow_seconds=0.3
    )
    env = child_environment(broker_url, server, EMAG_PAGE_CONCURRENCY=1)
    with start_worker(env, tmp_path / "doomed.log", concurrency=1, name="doomed") as doomed:
        send(sync_products_task, broker_url, kwargs={"account": "main", "mode": "full"})
        run = wait_until(
            lambda: SyncRun.objects.filter(kind=SyncKind.OFFERS, pages_done__gte=3).first(),
            timeout=30,
            what="the sync to commit three pages",
        )
        doomed.kill()
        killed_at = time.monotonic()
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING

    with start_worker(env, tmp_path / "survivor.log", concurrency=2, name="survivor"):
        wait_until(
            lambda: SyncRun.objects.get(pk=run.pk).status != SyncStatus.RUNNING,
            timeout=TEST_REAP_AFTER + REAP_SLACK_SECONDS + 5,
            what="the dead run to be reaped",
        )
        reaped_after = time.monotonic() - killed_at
        run.refresh_from_db()
        sandbox.clear_faults()
        send(sync_products_task, broker_url, kwargs={"account": "main", "mode": "full"})
        resumed = wait_until(
            lambda: SyncRun.objects.filter(pk__gt=run.pk, finished_at__isnull=False).first(),
            timeout=60,
            what="the next run to finish",
        )

    assert run.status == SyncStatus.FAILED
    assert "reaped" in run.errors[-1]["message"]
    assert reaped_after <= TEST_REAP_AFTER + REAP_SLACK_SECONDS
    assert resumed.status == SyncStatus.COMPLETED
    assert resumed.resumed_from_page == run.pages_done  # the page before the checkpoint
    assert Offer.objects.filter(account="main").count() == OFFERS
    # A pass stitched from the dead run and its resumption marks nothing missing.
    assert resumed.items_missing == 0
    assert not SyncRun.objects.filter(status__in=["queued", "running"]).exists()
