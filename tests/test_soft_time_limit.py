"""At the task's soft time limit every stream ends the same way.

The run ends `partial` with what it committed, its claim is freed, and the task reports the
run like any finished one (no exception reaches Celery). One test per stream.
"""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from emag_sync import tasks
from emag_sync.models import Order, OrderStatus, SyncKind, SyncRun, SyncState, SyncStatus
from emag_sync.services import offer_sync as offer_stream
from emag_sync.services import order_acknowledge as acknowledge_stream
from emag_sync.services import order_sync as order_stream
from tests.orders_support import ALL_HISTORY_DAYS

pytestmark = pytest.mark.django_db(transaction=True)


def time_runs_out_at_call(number: int, write):
    """Wrap a unit's write so that its `number`-th call meets the soft time limit."""
    calls = []

    def write_until_time_runs_out(**kwargs):
        calls.append(kwargs)
        if len(calls) == number:
            raise SoftTimeLimitExceeded()
        return write(**kwargs)

    return write_until_time_runs_out


def assert_stopped_at_the_soft_time_limit(result: dict, kind: str) -> SyncRun:
    run = SyncRun.objects.get(kind=kind)
    assert result == {"run_id": run.pk, "account": "main", "status": SyncStatus.PARTIAL}
    assert "soft time limit" in run.errors[-1]["message"]
    assert not SyncRun.objects.filter(status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]).exists()
    return run


def test_an_offer_sync_at_the_soft_time_limit_ends_partial_and_is_reported(
    live_sandbox, monkeypatch, settings
):
    live_sandbox(offers={"main": 450, "fbe": 10})
    settings.EMAG_PAGE_CONCURRENCY = 1
    monkeypatch.setattr(
        offer_stream, "offer_page_write", time_runs_out_at_call(3, offer_stream.offer_page_write)
    )

    result = tasks.sync_products_task(account="main", mode="full")

    run = assert_stopped_at_the_soft_time_limit(result, SyncKind.OFFERS)
    assert run.pages_done == 2
    assert SyncState.objects.get(account="main", stream="offers", mode="full").next_page == 3


def test_an_order_sync_at_the_soft_time_limit_ends_partial_and_is_reported(
    live_sandbox, monkeypatch, settings
):
    live_sandbox(orders={"main": 300, "fbe": 10})
    settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
    settings.EMAG_PAGE_CONCURRENCY = 1
    monkeypatch.setattr(
        order_stream, "order_page_write", time_runs_out_at_call(3, order_stream.order_page_write)
    )

    result = tasks.sync_orders_task(account="main")

    run = assert_stopped_at_the_soft_time_limit(result, SyncKind.ORDERS)
    assert run.pages_done == 2
    assert Order.objects.filter(account="main").count() == run.items_seen > 0


def test_an_acknowledge_run_at_the_soft_time_limit_ends_partial_and_is_reported(
    live_sandbox, monkeypatch, settings
):
    sandbox, _ = live_sandbox(orders={"main": 300, "fbe": 10})
    settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
    order_stream.order_sync(account="main")
    new = list(
        Order.objects.filter(account="main", status=OrderStatus.NEW)
        .order_by("date", "emag_id")
        .values_list("emag_id", flat=True)
    )
    assert len(new) >= 3
    monkeypatch.setattr(
        acknowledge_stream,
        "order_page_write",
        time_runs_out_at_call(3, acknowledge_stream.order_page_write),
    )

    result = tasks.acknowledge_orders_task(account="main")

    run = assert_stopped_at_the_soft_time_limit(result, SyncKind.ACKNOWLEDGE)
    assert run.pages_done == 2
    stored = {order.emag_id: order for order in Order.objects.filter(emag_id__in=new[:3])}
    assert [stored[emag_id].status for emag_id in new[:2]] == [2, 2]
    # The third order was acknowledged on eMAG when time ran out, before it was stored:
    # the run keeps that fact (its unit's interruption hook), and no other order was touched.
    third = stored[new[2]]
    assert (third.status, third.acknowledged_at is not None) == (OrderStatus.NEW, True)
    remote = {order["id"]: order["status"] for order in sandbox.orders("main")}
    assert remote[new[2]] == 2
    assert all(remote[emag_id] == 1 for emag_id in new[3:])
