"""Runs never block a stream: lost queued runs are failed, interrupted syncs resume by themselves."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.worker import state as worker_state
from django.conf import settings
from django.utils import timezone

from emag_sync import worker
from emag_sync.models import Offer, SyncKind, SyncMode, SyncRun, SyncState, SyncStatus
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.sync_runs import (
    LOST_MESSAGE,
    sync_run_claim,
    sync_run_reap,
    sync_run_task_id,
)
from emag_sync.services.sync_triggers import offer_syncs_resume_interrupted
from magflow.celery import app
from tests.broker_support import filesystem_broker_options

pytestmark = pytest.mark.django_db(transaction=True)


def _drop_broker_connections() -> None:
    # Connections made to the old broker must not be reused; Celery has no public way to
    # forget them, hence the private attributes.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def _broker_swapped(url: str, options: dict) -> Iterator[None]:
    """Point this process's Celery app at another broker inside the block, then back."""
    saved_url, saved_options = app.conf.broker_url, dict(app.conf.broker_transport_options or {})
    app.conf.update(broker_url=url, broker_transport_options=options)
    _drop_broker_connections()
    try:
        yield
    finally:
        app.conf.update(broker_url=saved_url, broker_transport_options=saved_options)
        _drop_broker_connections()


@pytest.fixture
def embedded_broker(tmp_path):
    """Point this process's Celery app at a private embedded broker folder; return the folder."""
    folder = tmp_path / "celery"
    with _broker_swapped("filesystem://", filesystem_broker_options(folder)):
        yield folder


def _queued_run(account: str = "main", *, age: timedelta) -> SyncRun:
    run = sync_run_claim(account=account, kind=SyncKind.OFFERS, queued=True, triggered_by="t")
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - age)
    return run


def _send(run: SyncRun) -> None:
    from emag_sync.tasks import sync_products_task

    sync_products_task.apply_async(
        kwargs={"account": run.account, "mode": "full", "run_id": run.pk},
        task_id=sync_run_task_id(run.pk),
    )


def test_a_queued_run_whose_message_the_broker_lost_is_failed_and_frees_its_stream(
    embedded_broker,
):
    lost = _queued_run(age=timedelta(seconds=settings.SYNC_QUEUED_GRACE + 1))

    assert sync_run_reap(lost_queued=True) == 1

    lost.refresh_from_db()
    assert lost.status == SyncStatus.FAILED
    assert lost.errors[-1]["message"] == LOST_MESSAGE
    sync_run_claim(account="main", kind=SyncKind.OFFERS, triggered_by="next tick")


def test_a_queued_run_whose_message_still_waits_is_kept_however_old(embedded_broker):
    waiting = _queued_run(age=timedelta(hours=3))  # behind a long sync, say
    _send(waiting)

    assert sync_run_reap(lost_queued=True) == 0
    waiting.refresh_from_db()
    assert waiting.status == SyncStatus.QUEUED


def test_a_queued_run_whose_message_this_worker_holds_is_kept(embedded_broker, monkeypatch):
    held = _queued_run(age=timedelta(seconds=settings.SYNC_QUEUED_GRACE * 3))
    monkeypatch.setattr(
        worker_state, "reserved_requests", [SimpleNamespace(id=sync_run_task_id(held.pk))]
    )

    assert sync_run_reap(lost_queued=True) == 0
    held.refresh_from_db()
    assert held.status == SyncStatus.QUEUED


def test_a_queued_run_younger_than_the_grace_or_asked_about_outside_a_worker_is_kept(
    embedded_broker,
):
    young = _queued_run("main", age=timedelta(seconds=5))
    old = _queued_run("fbe", age=timedelta(hours=2))

    assert sync_run_reap(lost_queued=True) == 1  # the old one only
    assert sync_run_reap() == 0  # a claim's reap never judges queued runs
    young.refresh_from_db()
    old.refresh_from_db()
    assert (young.status, old.status) == (SyncStatus.QUEUED, SyncStatus.FAILED)


def test_a_shutdown_interrupts_a_full_sync_after_a_page_and_the_next_start_resumes_it(
    live_sandbox, embedded_broker, monkeypatch
):
    sandbox, _ = live_sandbox(offers={"main": 650, "fbe": 5})
    pages_written = []
    original = worker._STOPPING

    class StopAfterTwoPages:
        def is_set(self) -> bool:
            pages_written.append(1)
            return len(pages_written) >= 2

    monkeypatch.setattr(worker, "_STOPPING", StopAfterTwoPages())
    interrupted = offer_sync(account="main", options=OfferSyncOptions(mode=SyncMode.FULL))
    monkeypatch.setattr(worker, "_STOPPING", original)

    assert interrupted.status == SyncStatus.INTERRUPTED
    assert interrupted.pages_done == 2
    assert "the next start resumes from the checkpoint" in interrupted.errors[-1]["message"]
    state = SyncState.objects.get(account="main", stream=SyncKind.OFFERS, mode=SyncMode.FULL)
    assert (state.next_page, state.run_id) == (3, interrupted.pk)

    [queued] = offer_syncs_resume_interrupted(triggered_by="resumed at worker start")
    assert (queued.account, queued.status, queued.mode) == ("main", "queued", "full")
    assert offer_syncs_resume_interrupted(triggered_by="again") == []  # single-flight

    resumed = offer_sync(
        account="main", options=OfferSyncOptions(mode=SyncMode.FULL), run_id=queued.pk
    )
    assert resumed.status == SyncStatus.COMPLETED
    assert resumed.resumed_from_page == 2  # the page before the checkpoint is read again
    assert Offer.objects.filter(account="main").count() == 650
    assert offer_syncs_resume_interrupted(triggered_by="later") == []


@pytest.fixture
def redis_broker(redis_url):
    with _broker_swapped(redis_url, {}):
        yield redis_url


def test_on_redis_the_reaper_finds_a_waiting_message_and_fails_a_run_without_one(redis_broker):
    import redis

    waiting = _queued_run("main", age=timedelta(hours=3))
    _send(waiting)
    lost = _queued_run("fbe", age=timedelta(seconds=settings.SYNC_QUEUED_GRACE + 1))

    assert sync_run_reap(lost_queued=True) == 1
    waiting.refresh_from_db()
    lost.refresh_from_db()
    assert (waiting.status, lost.status) == (SyncStatus.QUEUED, SyncStatus.FAILED)

    # A message a worker took and has not acknowledged sits in the `unacked` hash.
    client = redis.Redis.from_url(redis_broker)
    [message] = client.lrange("emag_offers", 0, -1)
    client.delete("emag_offers")
    client.hset("unacked", "tag-1", b"[" + message + b', "emag_offers", "emag_offers"]')
    assert sync_run_reap(lost_queued=True) == 0
    client.delete("unacked")
    assert sync_run_reap(lost_queued=True) == 1


@pytest.mark.parametrize("stop", [SystemExit(-241), KeyboardInterrupt()])
def test_a_run_whose_process_is_stopped_ends_interrupted_not_failed(stop):
    from emag_sync.services.sync_runs import sync_run_finish_after_error

    run = sync_run_claim(account="main", kind=SyncKind.OFFERS, triggered_by="t")

    sync_run_finish_after_error(run=run, error=stop)

    run.refresh_from_db()
    assert run.status == SyncStatus.INTERRUPTED
    assert run.errors[-1]["message"].startswith("interrupted: the process was stopped")
    assert "unexpected error" not in run.errors[-1]["message"]
