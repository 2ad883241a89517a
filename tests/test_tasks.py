"""Tasks are thin and well-behaved: queues, acks, time limits, retries, fan-out, single flight.

These run the task functions in this process; tests/test_tasks_worker.py sends them through
the broker to a real worker.
"""

import inspect

import pytest
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from emag_sync import tasks
from emag_sync.models import SyncKind, SyncRun, SyncState, SyncStatus
from emag_sync.services import offer_sync as offer_sync_module
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.sync_runs import SyncAlreadyRunning, sync_run_claim

ALL_TASKS = [
    tasks.sync_products_task,
    tasks.sync_orders_task,
    tasks.acknowledge_orders_task,
    tasks.cleanup_task,
    tasks.health_check_task,
]


def route_of(task) -> str:
    return current_app.amqp.router.route({}, task.name)["queue"].name


# --- hygiene ----------------------------------------------------------------------------------


def test_offer_syncs_have_their_own_queue_and_everything_else_the_quick_one():
    assert route_of(tasks.sync_products_task) == "emag_offers"
    for task in ALL_TASKS[1:]:
        assert route_of(task) == "emag_orders", task.name


def test_late_acknowledgement_only_for_tasks_that_may_run_twice():
    assert tasks.sync_products_task.acks_late  # single-flight claim + checkpoints
    assert tasks.sync_orders_task.acks_late  # upserts + overlapping cursor
    assert tasks.cleanup_task.acks_late  # deletes by cutoff
    assert not tasks.acknowledge_orders_task.acks_late  # writes to eMAG
    assert not tasks.health_check_task.acks_late  # sends alerts
    assert current_app.conf.task_reject_on_worker_lost is not True


def test_workers_prefetch_one_message_per_process():
    assert current_app.conf.worker_prefetch_multiplier == 1


def test_soft_limits_come_before_hard_ones_and_both_before_the_visibility_timeout():
    for task in ALL_TASKS:
        assert 0 < task.soft_time_limit < task.time_limit, task.name
        assert task.time_limit < settings.REDIS_VISIBILITY_TIMEOUT, task.name


def test_only_whole_run_failures_are_retried_with_backoff():
    retried = ALL_TASKS[:4]
    for task in retried:
        assert OperationalError in task.autoretry_for
        assert SyncAlreadyRunning not in task.autoretry_for
        assert task.retry_backoff and task.retry_jitter
        assert task.max_retries == 3
    for task in (tasks.sync_products_task, tasks.sync_orders_task):
        assert tasks.SyncRunUnavailable in task.autoretry_for
    # Acknowledging writes to eMAG: an order eMAG refuses is not retried.
    assert tasks.SyncRunUnavailable not in tasks.acknowledge_orders_task.autoretry_for
    assert not getattr(tasks.health_check_task, "autoretry_for", ())


def test_tasks_take_only_json_friendly_arguments_by_keyword():
    for task in ALL_TASKS:
        for parameter in inspect.signature(task.run).parameters.values():
            assert parameter.default is not inspect.Parameter.empty, (task.name, parameter)


# --- behaviour --------------------------------------------------------------------------------


def test_a_task_for_all_accounts_sends_one_task_per_account(monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.sync_products_task, "apply_async", lambda **options: sent.append(options)
    )

    result = tasks.sync_products_task(account="all", mode="incremental", max_pages=10)

    assert result == {"fanned_out": ["main", "fbe"]}
    assert [options["kwargs"]["account"] for options in sent] == ["main", "fbe"]
    assert all(options["kwargs"]["max_pages"] == 10 for options in sent)
    assert all(options["kwargs"]["triggered_by"] == "schedule" for options in sent)


def test_a_queued_run_cannot_be_sent_to_all_accounts():
    with pytest.raises(ValueError, match="run_id"):
        tasks.sync_products_task(account="all", run_id=7)


@pytest.mark.django_db
def test_a_tick_while_the_stream_is_busy_reports_already_running_and_adds_no_run():
    busy = sync_run_claim(account="main", kind=SyncKind.OFFERS, triggered_by="cli")

    result = tasks.sync_products_task(account="main")

    assert result == {"account": "main", "already_running": busy.pk}
    assert SyncRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_run_that_could_not_reach_emag_at_all_is_retried(live_sandbox):
    sandbox, _ = live_sandbox(offers={"main": 150, "fbe": 10})
    sandbox.inject_fault("main", "http_503", count=None)

    with pytest.raises(tasks.SyncRunUnavailable):
        tasks.sync_products_task(account="main", mode="full")

    run = SyncRun.objects.get()
    assert (run.status, run.pages_done) == (SyncStatus.PARTIAL, 0)


@pytest.mark.django_db(transaction=True)
def test_a_run_someone_queued_is_reported_not_retried(live_sandbox):
    sandbox, _ = live_sandbox(offers={"main": 150, "fbe": 10})
    sandbox.inject_fault("main", "http_503", count=None)
    queued = sync_run_claim(account="main", kind=SyncKind.OFFERS, triggered_by="ana", queued=True)

    result = tasks.sync_products_task(account="main", mode="full", run_id=queued.pk)

    assert result == {"run_id": queued.pk, "account": "main", "status": SyncStatus.PARTIAL}


@pytest.mark.django_db(transaction=True)
def test_a_soft_time_limit_mid_sync_ends_the_run_partial_keeping_its_checkpoint(
    live_sandbox, monkeypatch
):
    live_sandbox(offers={"main": 450, "fbe": 10})
    real_page_write = offer_sync_module.offer_page_write

    def page_write_until_time_runs_out(**kwargs):
        if kwargs["page"] == 3:
            raise SoftTimeLimitExceeded()
        return real_page_write(**kwargs)

    monkeypatch.setattr(offer_sync_module, "offer_page_write", page_write_until_time_runs_out)
    monkeypatch.setattr(settings, "EMAG_PAGE_CONCURRENCY", 1)

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.status == SyncStatus.PARTIAL
    assert run.pages_done == 2
    assert "soft time limit" in run.errors[-1]["message"]
    assert SyncState.objects.get(account="main", mode="full").next_page == 3
    # The claim is free: the next run starts at once and resumes.
    monkeypatch.setattr(offer_sync_module, "offer_page_write", real_page_write)
    resumed = offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    assert (resumed.status, resumed.resumed_from_page) == (SyncStatus.COMPLETED, 2)


@pytest.mark.django_db(transaction=True)
def test_any_other_error_mid_sync_ends_the_run_failed_and_is_raised(live_sandbox, monkeypatch):
    live_sandbox(offers={"main": 150, "fbe": 10})
    monkeypatch.setattr(offer_sync_module, "offer_page_write", lambda **kwargs: 1 / 0, raising=True)

    with pytest.raises(ZeroDivisionError):
        offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    run = SyncRun.objects.get()
    assert run.status == SyncStatus.FAILED
    assert "ZeroDivisionError" in run.errors[-1]["message"]


def test_an_order_sync_since_a_time_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="zone"):
        tasks.sync_orders_task(account="main", since="2026-01-01T00:00:00")
