"""Auto-acknowledge asks eMAG first, acknowledges only still-new orders, and never a cancelled one."""

import json

import pytest
from django.core.management import call_command

from emag_sync.accounts import get_account
from emag_sync.client import EmagClient
from emag_sync.models import Order, SyncRun
from emag_sync.services.order_acknowledge import orders_acknowledge
from emag_sync.services.order_sync import order_sync
from tests.orders_support import orders_by_id

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def synced(order_history_sandbox, clock):
    """Return a sandbox whose orders (main 300, fbe 150) are all stored locally."""
    sandbox = order_history_sandbox(
        orders={"main": 300, "fbe": 150}, offers={"main": 30, "fbe": 30}
    )
    for account in ("main", "fbe"):
        order_sync(account=account, clock=clock)
    clock.advance(minutes=2)
    sandbox.reset_stats()
    return sandbox


def new_ids(sandbox, account="main") -> list[int]:
    return [order["id"] for order in sandbox.orders(account) if order["status"] == 1]


def acknowledge_requests(sandbox, account="main") -> int:
    actions = sandbox.stats()[account]["actions"]
    return actions.get("order/acknowledge", {}).get("requests", 0)


def test_auto_acknowledge_moves_every_still_new_order_to_2_and_never_touches_cancelled_ones(
    synced, capsys
):
    sandbox = synced
    cancelled_late = new_ids(sandbox)[:3]  # cancelled on eMAG after the last sync
    for order_id in cancelled_late:
        sandbox.move_order("main", order_id, 0)
    still_new = {account: new_ids(sandbox, account) for account in ("main", "fbe")}
    cancelled = {
        account: [o["id"] for o in sandbox.orders(account) if o["status"] == 0]
        for account in ("main", "fbe")
    }
    assert still_new["main"] and still_new["fbe"]

    with pytest.raises(SystemExit) as exit_info:
        call_command("emag_sync", "acknowledge", "--account", "all", "--json")
        raise SystemExit(0)
    report = {run["account"]: run for run in json.loads(capsys.readouterr().out)["runs"]}

    assert exit_info.value.code == 0
    for account in ("main", "fbe"):
        remote = orders_by_id(sandbox, account)
        local = {o.emag_id: o for o in Order.objects.filter(account=account)}
        assert report[account]["status"] == "completed"
        assert report[account]["acknowledged"] == len(still_new[account])
        assert acknowledge_requests(sandbox, account) == len(still_new[account])
        assert new_ids(sandbox, account) == []
        for order_id in still_new[account]:
            assert remote[order_id]["status"] == 2
            assert local[order_id].status == 2 and local[order_id].acknowledged_at is not None
        for order_id in cancelled[account]:
            assert remote[order_id]["status"] == 0
            assert local[order_id].status == 0 and local[order_id].acknowledged_at is None
        assert not Order.objects.filter(account=account, status=1).exists()
    # Orders fulfilled by eMAG are read back with type=2, or they would not be found.
    assert any(orders_by_id(sandbox, "fbe")[i]["type"] == 2 for i in still_new["fbe"])


def test_an_order_cancelled_before_acknowledge_is_stored_cancelled_and_not_acknowledged(synced):
    sandbox = synced
    order_id, *others = new_ids(sandbox)
    sandbox.move_order("main", order_id, 0)

    run = orders_acknowledge(account="main")

    order = Order.objects.get(account="main", emag_id=order_id)
    assert order.status == 0 and order.acknowledged_at is None
    move = order.status_changes.get(run=run)
    assert (move.from_status, move.to_status, move.source) == (1, 0, "sync")
    assert orders_by_id(sandbox)[order_id]["status"] == 0
    assert acknowledge_requests(sandbox) == len(others)
    assert run.status == "completed"


def test_acknowledging_again_is_harmless(synced):
    sandbox = synced
    first = orders_acknowledge(account="main")
    acknowledged = Order.objects.filter(account="main", acknowledged_at__isnull=False)
    sandbox.reset_stats()

    again = orders_acknowledge(account="main")
    with EmagClient(get_account("main")) as client:  # and on eMAG's side, twice over
        client.acknowledge_order(acknowledged[0].emag_id)
        client.acknowledge_order(acknowledged[0].emag_id)

    assert first.items_seen == acknowledged.count() > 0
    assert (again.status, again.items_seen, again.requests) == ("completed", 0, 0)
    assert orders_by_id(sandbox)[acknowledged[0].emag_id]["status"] == 2


def test_an_order_already_acknowledged_elsewhere_is_stored_without_a_second_acknowledge(synced):
    sandbox = synced
    order_id = new_ids(sandbox)[0]
    # Another tool, or a run that died before storing eMAG's answer, acknowledged it.
    with EmagClient(get_account("main")) as client:
        client.acknowledge_order(order_id)
    others = new_ids(sandbox)
    sandbox.reset_stats()

    run = orders_acknowledge(account="main")

    order = Order.objects.get(account="main", emag_id=order_id)
    assert order.status == 2 and order.acknowledged_at is None
    assert order.status_changes.get(run=run).source == "sync"
    assert acknowledge_requests(sandbox) == len(others)


def test_a_failure_with_one_order_is_listed_and_the_others_are_still_acknowledged(synced, capsys):
    sandbox = synced
    ghost = Order.objects.filter(account="main", status=1).first()
    Order.objects.filter(pk=ghost.pk).update(emag_id=4_000_000_000)  # unknown to eMAG
    expected = len(new_ids(sandbox)) - 1

    with pytest.raises(SystemExit) as exit_info:
        call_command("emag_sync", "acknowledge", "--account", "main")
    err = capsys.readouterr().err

    run = SyncRun.objects.get(kind="acknowledge")
    assert exit_info.value.code == 1
    assert run.status == "partial" and run.items_failed == 1
    assert run.errors == [
        {"order": 4_000_000_000, "message": "order 4000000000 was not found on eMAG"}
    ]
    assert "order 4000000000: order 4000000000 was not found on eMAG" in err
    assert acknowledge_requests(sandbox) == expected
    assert len(new_ids(sandbox)) == 1  # only the one whose local id was broken
