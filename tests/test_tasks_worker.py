"""Each task, sent through the Redis broker to a real Celery worker, leaves its effect in the database.

One worker (both queues, three processes) serves the whole module, against one eMAG sandbox
served over HTTP from this process; each test waits for its runs to end, so the next starts
from an idle worker and a flushed database.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from emag_sync.models import (
    AlertIncident,
    EmagRequestLog,
    HealthCheck,
    Offer,
    OfferChange,
    SyncKind,
    SyncRun,
    SyncState,
    SyncStatus,
)
from emag_sync.sandbox import Sandbox, sandbox_credentials, start_in_thread
from emag_sync.sandbox.orders import NEW
from emag_sync.tasks import (
    acknowledge_orders_task,
    cleanup_task,
    health_check_task,
    sync_orders_task,
    sync_products_task,
)
from tests.celery_processes import (
    child_environment,
    send,
    start_worker,
    wait_until,
)
from tests.factories import make_conflict, make_offer
from tests.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OFFERS = {"main": 250, "fbe": 180}  # 3 and 2 pages
ORDERS = {"main": 60, "fbe": 20}


@pytest.fixture(scope="module")
def sandbox():
    running = start_in_thread(Sandbox(offers=OFFERS, orders=ORDERS, rate_limit=False))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def worker(django_db_setup, broker_url, sandbox, webhook, tmp_path_factory):
    env = child_environment(
        broker_url,
        sandbox,
        ALERT_WEBHOOK_URL=webhook.url,
        # One page in flight at a time, so slowed pages make a run last predictably long.
        EMAG_PAGE_CONCURRENCY=1,
    )
    with start_worker(env, tmp_path_factory.mktemp("worker") / "worker.log") as process:
        yield process


@pytest.fixture(autouse=True)
def _clean_sandbox(sandbox):
    yield
    sandbox.sandbox.clear_faults()


def slow_reads(sandbox, account: str, seconds: float) -> None:
    """Make every offer page of the account take that long, until faults are cleared."""
    sandbox.sandbox.inject_fault(
        account, "timeout", count=None, action="product_offer/read", slow_seconds=seconds
    )


def finished_runs(kind: str, account: str | None = None) -> list[SyncRun]:
    runs = SyncRun.objects.filter(kind=kind, finished_at__isnull=False)
    if account:
        runs = runs.filter(account=account)
    return list(runs.order_by("account", "id"))


def test_a_product_sync_task_for_all_accounts_completes_one_run_per_account(
    worker, broker_url, sandbox
):
    # As beat sends it: with an expiry, which the per-account tasks inherit.
    send(sync_products_task, broker_url, kwargs={"account": "all", "mode": "full"}, expires=60)

    runs = wait_until(
        lambda: len(finished_runs(SyncKind.OFFERS)) == 2 and finished_runs(SyncKind.OFFERS),
        timeout=60,
        what="a finished offer run per account",
    )

    assert [(run.account, run.status) for run in runs] == [
        ("fbe", SyncStatus.COMPLETED),
        ("main", SyncStatus.COMPLETED),
    ]
    assert {run.triggered_by for run in runs} == {"schedule"}
    for account, count in OFFERS.items():
        assert Offer.objects.filter(account=account).count() == count


def test_an_order_sync_task_stores_orders_and_an_acknowledge_task_acknowledges_new_ones(
    worker, broker_url, sandbox
):
    new_before = [o["id"] for o in sandbox.sandbox.orders("main") if o["status"] == NEW]
    assert new_before, "the sandbox's seed should include new orders"

    send(sync_orders_task, broker_url, kwargs={"account": "main"})
    (orders_run,) = wait_until(
        lambda: finished_runs(SyncKind.ORDERS, "main"), timeout=60, what="the order run"
    )
    send(acknowledge_orders_task, broker_url, kwargs={"account": "main"})
    (acknowledge_run,) = wait_until(
        lambda: finished_runs(SyncKind.ACKNOWLEDGE, "main"),
        timeout=60,
        what="the acknowledge run",
    )

    from emag_sync.models import Order

    assert orders_run.status == SyncStatus.COMPLETED
    stored = set(Order.objects.filter(account="main").values_list("emag_id", flat=True))
    assert set(new_before) <= stored
    assert acknowledge_run.status == SyncStatus.COMPLETED
    still_new = [o["id"] for o in sandbox.sandbox.orders("main") if o["status"] == NEW]
    assert not set(new_before) & set(still_new)


def test_the_cleanup_task_deletes_what_is_past_retention_and_nothing_else(worker, broker_url):
    now = timezone.now()
    long_ago = now - timedelta(days=45)
    old_run = SyncRun.objects.create(
        kind=SyncKind.OFFERS, account="main", status=SyncStatus.COMPLETED, finished_at=long_ago
    )
    recent_run = SyncRun.objects.create(
        kind=SyncKind.OFFERS, account="main", status=SyncStatus.COMPLETED, finished_at=now
    )
    SyncRun.objects.filter(pk=old_run.pk).update(created_at=long_ago)
    offer = make_offer(synced_at=long_ago, first_seen_at=long_ago)
    kept_change = OfferChange.objects.create(
        offer=offer, field="sale_price", old_value="1", new_value="2", run=old_run, changed_at=now
    )
    OfferChange.objects.create(
        offer=offer, field="stock", run=None, changed_at=now - timedelta(days=400)
    )
    conflict = make_conflict(offer, detected_in=old_run, detected_at=long_ago)
    SyncState.objects.create(account="main", stream="offers", mode="full", next_page=3, run=old_run)
    for created_at, run in ((long_ago, old_run), (now, recent_run)):
        EmagRequestLog.objects.create(
            account="main", resource="product_offer", action="read", run=run, created_at=created_at
        )

    send(cleanup_task, broker_url)

    wait_until(
        lambda: not SyncRun.objects.filter(pk=old_run.pk).exists(),
        timeout=30,
        what="the old run to be deleted",
    )
    wait_until(lambda: OfferChange.objects.count() == 1, timeout=10, what="old history deleted")
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [recent_run.pk]
    assert list(EmagRequestLog.objects.values_list("run", flat=True)) == [recent_run.pk]
    kept_change.refresh_from_db()
    conflict.refresh_from_db()
    assert kept_change.run is None and conflict.detected_in is None
    assert Offer.objects.filter(pk=offer.pk).exists()
    assert SyncState.objects.get(account="main").next_page == 3


def test_the_health_check_task_stores_checks_and_alerts_once_for_a_failing_account(
    worker, broker_url, sandbox, webhook
):
    sandbox.sandbox.inject_fault("fbe", "auth", count=None, action="product_offer/count")

    send(health_check_task, broker_url)
    first = wait_until(HealthCheck.objects.first, timeout=30, what="a stored health check")
    wait_until(lambda: webhook.events("opened"), timeout=15, what="the alert webhook")
    send(health_check_task, broker_url)
    wait_until(
        lambda: AlertIncident.objects.filter(last_seen_at__gt=first.checked_at).exists(),
        timeout=30,
        what="the second check to see the incident again",
    )

    assert first.status == "degraded"
    assert first.database_ok and first.broker_ok
    assert first.accounts["main"]["ok"] is True
    assert first.accounts["fbe"]["ok"] is False
    assert "Bad credentials" in first.accounts["fbe"]["message"]
    (alert,) = webhook.events("opened")
    assert alert["incident"]["kind"] == "account_unreachable"
    assert alert["incident"]["account"] == "fbe"
    assert sandbox_credentials("fbe")[1] not in str(alert)

    sandbox.sandbox.clear_faults()
    send(health_check_task, broker_url)
    wait_until(lambda: webhook.events("resolved"), timeout=30, what="the resolved notice")

    assert HealthCheck.objects.count() == 3
    assert HealthCheck.objects.first().status == "ok"
    assert len(webhook.events("opened")) == 1
    assert AlertIncident.objects.get().resolved_at is not None


def test_two_overlapping_ticks_of_the_same_sync_run_once_and_the_second_says_already_running(
    worker, broker_url, sandbox
):
    slow_reads(sandbox, "main", 0.5)
    tick = {"account": "main", "mode": "incremental"}

    send(sync_products_task, broker_url, kwargs=tick)
    send(sync_products_task, broker_url, kwargs=tick)

    wait_until(lambda: "already running" in worker.log(), timeout=30, what="already running")
    sandbox.sandbox.clear_faults()
    (run,) = wait_until(
        lambda: finished_runs(SyncKind.OFFERS, "main"), timeout=30, what="the one run"
    )
    assert run.status == SyncStatus.COMPLETED
    assert SyncRun.objects.filter(account="main", kind=SyncKind.OFFERS).count() == 1


def test_a_soft_time_limit_ends_the_run_partial_with_its_checkpoint_and_frees_the_claim(
    worker, broker_url, sandbox
):
    slow_reads(sandbox, "main", 0.8)  # 3 pages: 2.4 s, beyond the soft limit of 2 s

    send(
        sync_products_task,
        broker_url,
        kwargs={"account": "main", "mode": "full"},
        soft_time_limit=2,
        time_limit=30,
    )

    (run,) = wait_until(
        lambda: finished_runs(SyncKind.OFFERS, "main"), timeout=30, what="the run to stop"
    )
    assert run.status == SyncStatus.PARTIAL
    assert "soft time limit" in run.errors[-1]["message"]
    assert 1 <= run.pages_done < 3
    checkpoint = SyncState.objects.get(account="main", stream="offers", mode="full")
    assert checkpoint.next_page == run.pages_done + 1
    assert not SyncRun.objects.filter(status__in=["queued", "running"]).exists()


def test_an_order_sync_completes_while_offer_syncs_of_both_accounts_run(
    worker, broker_url, sandbox
):
    slow_reads(sandbox, "main", 1.5)
    slow_reads(sandbox, "fbe", 1.5)
    send(sync_products_task, broker_url, kwargs={"account": "all", "mode": "full"})
    wait_until(
        lambda: (
            SyncRun.objects.filter(kind=SyncKind.OFFERS, status=SyncStatus.RUNNING).count() == 2
        ),
        timeout=30,
        what="both offer syncs running",
    )

    send(sync_orders_task, broker_url, kwargs={"account": "main"})
    (orders_run,) = wait_until(
        lambda: finished_runs(SyncKind.ORDERS, "main"), timeout=30, what="the order run"
    )
    offer_statuses = set(
        SyncRun.objects.filter(kind=SyncKind.OFFERS).values_list("status", flat=True)
    )

    sandbox.sandbox.clear_faults()
    wait_until(lambda: len(finished_runs(SyncKind.OFFERS)) == 2, timeout=60, what="offer runs")
    assert orders_run.status == SyncStatus.COMPLETED
    assert offer_statuses == {SyncStatus.RUNNING}
