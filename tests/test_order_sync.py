"""Order sync against the sandbox over real HTTP: complete, incremental, and right on the edges."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from emag_sync.client import EmagClient, EmagServerError
from emag_sync.models import Order, OrderLine, OrderStatusChange, SyncRun, SyncState
from emag_sync.services.order_sync import order_sync
from emag_sync.services.order_windows import month_windows
from tests.orders_support import (
    ALL_HISTORY_DAYS,
    BUCHAREST,
    NOW,
    Clock,
    local_text,
    order_writes,
    orders_by_id,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def requests_by_type(monkeypatch):
    """Record (action, order type) of every order count and read the client sends."""
    sent = []
    count, read = EmagClient.count_orders, EmagClient.read_orders

    def count_orders(self, **filters):
        sent.append(("count", filters.get("type")))
        return count(self, **filters)

    def read_orders(self, **filters):
        sent.append(("read", filters.get("type")))
        return read(self, **filters)

    monkeypatch.setattr(EmagClient, "count_orders", count_orders)
    monkeypatch.setattr(EmagClient, "read_orders", read_orders)
    return sent


def stored(account="main") -> dict[int, Order]:
    return {order.emag_id: order for order in Order.objects.filter(account=account)}


def assert_mirror_matches(sandbox, account):
    remote = orders_by_id(sandbox, account)
    local = stored(account)
    assert set(local) == set(remote)
    for emag_id, order in local.items():
        raw = remote[emag_id]
        assert order.raw == raw
        assert (order.status, order.type) == (raw["status"], raw["type"])
        assert local_text(order.modified) == raw["modified"]
        assert local_text(order.date) == raw["date"]
    assert OrderLine.objects.filter(account=account).count() == sum(
        len(order["products"]) for order in remote.values()
    )


def movable(sandbox, account="main", statuses=(2, 3, 4)) -> list[dict]:
    return [order for order in sandbox.orders(account) if order["status"] in statuses]


NEXT_STATUS = {0: 2, 1: 0, 2: 3, 3: 4, 4: 5}


# --- Acceptance: complete, quiet when nothing changed, exact on changes ----------------------


def test_500_orders_per_account_sync_completely_over_http(live_sandbox, settings, capsys):
    settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
    # The command runs on the real clock, and so does this sandbox.
    sandbox, _ = live_sandbox(offers={"main": 60, "fbe": 60}, orders={"main": 500, "fbe": 500})

    with pytest.raises(SystemExit) as exit_info:
        call_command("emag_sync", "orders", "--account", "all", "--json")
        raise SystemExit(0)
    report = json.loads(capsys.readouterr().out)

    assert exit_info.value.code == 0
    assert {run["account"]: (run["status"], run["created"]) for run in report["runs"]} == {
        "main": ("completed", 500),
        "fbe": ("completed", 500),
    }
    for account in ("main", "fbe"):
        assert_mirror_matches(sandbox, account)
    # Orders fulfilled by eMAG (type 2) are asked for explicitly: the FBE account is mostly them.
    fbe_by_emag = [order for order in sandbox.orders("fbe") if order["type"] == 2]
    assert Order.objects.filter(account="fbe", type=2).count() == len(fbe_by_emag) > 400
    assert Order.objects.filter(account="main", type=2).count() == len(
        [order for order in sandbox.orders("main") if order["type"] == 2]
    )


def test_a_second_run_with_no_changes_makes_at_most_two_requests_per_type_and_writes_nothing(
    order_history_sandbox, clock, requests_by_type
):
    sandbox = order_history_sandbox(
        orders={"main": 500, "fbe": 500}, offers={"main": 20, "fbe": 20}
    )
    for account in ("main", "fbe"):
        order_sync(account=account, clock=clock)
    clock.advance(minutes=5)
    before = list(Order.objects.order_by("pk").values_list("pk", "content_hash", "synced_at"))
    requests_by_type.clear()
    sandbox.reset_stats()

    with CaptureQueriesContext(connection) as queries:
        runs = [order_sync(account=account, clock=clock) for account in ("main", "fbe")]

    assert order_writes(queries) == []
    assert list(Order.objects.order_by("pk").values_list("pk", "content_hash", "synced_at")) == (
        before
    )
    for order_type in (2, 3):
        sent = [action for action, sent_type in requests_by_type if sent_type == order_type]
        assert len(sent) <= 2 * 2, (order_type, sent)  # two accounts
    stats = sandbox.stats()
    for run in runs:
        assert run.status == "completed"
        assert (run.items_created, run.items_updated) == (0, 0)
        assert run.requests == stats[run.account]["total"]["requests"] <= 4


def test_after_the_sandbox_changes_20_statuses_the_next_run_updates_exactly_those_20(
    order_history_sandbox, clock
):
    sandbox = order_history_sandbox(orders={"main": 500}, offers={"main": 40}, accounts=["main"])
    order_sync(account="main", clock=clock)
    clock.advance(minutes=5)
    chosen = movable(sandbox, statuses=(0, 1, 2, 3, 4))[::7][:20]
    for order in chosen:
        sandbox.move_order("main", order["id"], NEXT_STATUS[order["status"]])
    clock.advance(minutes=5)

    run = order_sync(account="main", clock=clock)

    assert (run.status, run.items_updated, run.items_created) == ("completed", 20, 0)
    moves = OrderStatusChange.objects.filter(run=run)
    assert {(m.order.emag_id, m.from_status, m.to_status) for m in moves} == {
        (order["id"], order["status"], NEXT_STATUS[order["status"]]) for order in chosen
    }
    assert_mirror_matches(sandbox, "main")


# --- The cursor: first run, ties, overlap, changes mid-run, DST, future ----------------------


def test_the_first_run_reads_the_configured_days_back_and_sets_the_cursor(live_sandbox, clock):
    sandbox, _ = live_sandbox(
        orders={"main": 300}, offers={"main": 20}, accounts=["main"], clock=clock
    )

    run = order_sync(account="main", clock=clock)

    since = local_text(NOW - timedelta(days=90))
    recent = {o["id"] for o in sandbox.orders("main") if o["modified"] >= since}
    assert set(stored()) == recent
    assert len(recent) < 300  # the sandbox also holds older orders
    state = SyncState.objects.get(account="main", stream="orders", mode="incremental")
    assert state.cursor == max(order.modified for order in stored().values()) <= NOW
    assert run.parameters["from"] == (NOW - timedelta(days=90)).isoformat()


def test_an_order_changed_in_the_same_second_as_the_cursor_is_still_read(
    order_history_sandbox, settings, clock
):
    settings.EMAG_ORDERS_OVERLAP_MINUTES = 0  # only the inclusive bound can save it
    sandbox = order_history_sandbox(orders={"main": 120}, offers={"main": 20}, accounts=["main"])
    first, second = movable(sandbox)[:2]
    clock.advance(minutes=1)
    sandbox.move_order("main", first["id"], NEXT_STATUS[first["status"]])
    order_sync(account="main", clock=clock)
    state = SyncState.objects.get(account="main", stream="orders", mode="incremental")
    assert state.cursor == clock.now  # the newest change, in the run's last second

    sandbox.move_order("main", second["id"], NEXT_STATUS[second["status"]])  # same second
    clock.advance(seconds=30)
    run = order_sync(account="main", clock=clock)

    assert run.items_updated == 1
    assert stored()[second["id"]].status == NEXT_STATUS[second["status"]]


def test_orders_on_the_edge_between_two_month_windows_are_read(order_history_sandbox, clock):
    sandbox = order_history_sandbox(orders={"main": 150}, offers={"main": 20}, accounts=["main"])
    windows = month_windows(NOW - timedelta(days=ALL_HISTORY_DAYS), NOW, BUCHAREST)
    edges = [before for _, before in windows]  # inner edges and the run's end
    edge_orders = sandbox.orders("main")[: len(edges)]
    for order, edge in zip(edge_orders, edges, strict=True):
        sandbox.update_order("main", order["id"], {"modified": local_text(edge)})

    run = order_sync(account="main", clock=clock)

    assert run.status == "completed"
    assert {order["id"] for order in edge_orders} <= set(stored())
    assert_mirror_matches(sandbox, "main")
    # Read twice (once per window) yet stored once, with one first-seen status.
    assert OrderStatusChange.objects.filter(order__emag_id=edge_orders[0]["id"]).count() == 1


def test_re_reading_the_overlap_creates_no_duplicates(order_history_sandbox, clock):
    sandbox = order_history_sandbox(orders={"main": 200}, offers={"main": 20}, accounts=["main"])
    order_sync(account="main", clock=clock)
    changed = movable(sandbox)[:3]
    for order in changed:
        clock.advance(minutes=1)
        sandbox.move_order("main", order["id"], NEXT_STATUS[order["status"]])
    order_sync(account="main", clock=clock)
    clock.advance(minutes=2)

    # The overlap re-reads the three changes of the last run: already stored, left alone.
    run = order_sync(account="main", clock=clock)

    assert run.items_seen >= 3
    assert (run.items_created, run.items_updated, run.items_unchanged) == (0, 0, run.items_seen)
    assert Order.objects.count() == 200
    assert OrderStatusChange.objects.count() == 200 + 3
    assert_mirror_matches(sandbox, "main")


def test_an_order_changed_during_the_run_neither_hides_others_nor_is_lost(
    order_history_sandbox, settings, clock, monkeypatch
):
    settings.EMAG_PAGE_CONCURRENCY = 1  # page 2 is asked for after page 1 was answered
    sandbox = order_history_sandbox(orders={"main": 400}, offers={"main": 20}, accounts=["main"])
    existing = {order["id"] for order in sandbox.orders("main")}
    moved = []
    read = EmagClient.read_orders

    def read_then_change_one(self, **filters):
        orders = read(self, **filters)
        if not moved and filters["page"] == 1 and len(orders) == 100:
            # The change lands after the run's end, so the order leaves the window being
            # read and every order behind it moves up a page.
            order = next(o for o in orders if o["status"] in NEXT_STATUS)
            clock.advance(seconds=30)
            sandbox.move_order("main", order["id"], NEXT_STATUS[order["status"]])
            moved.append(order)
        return orders

    monkeypatch.setattr(EmagClient, "read_orders", read_then_change_one)
    start = clock.now

    run = order_sync(account="main", clock=clock)

    assert moved
    assert run.status == "completed"
    assert set(stored()) == existing  # nothing was skipped by the shift
    state = SyncState.objects.get(account="main", stream="orders", mode="incremental")
    assert state.cursor <= start
    [changed] = moved
    clock.advance(minutes=5)
    order_sync(account="main", clock=clock)
    assert stored()[changed["id"]].status == NEXT_STATUS[changed["status"]]
    assert_mirror_matches(sandbox, "main")


def test_an_order_changed_in_the_hour_repeated_when_daylight_saving_ends_is_read(
    order_history_sandbox,
):
    # 26 October 2025: Bucharest goes from 04:00 summer time back to 03:00 at 01:00 UTC.
    clock = Clock(datetime(2025, 10, 26, 0, 40, tzinfo=UTC))  # 03:40, first pass
    sandbox = order_history_sandbox(
        orders={"main": 60}, offers={"main": 20}, accounts=["main"], clock=clock
    )
    first, second = movable(sandbox)[:2]
    sandbox.move_order("main", first["id"], NEXT_STATUS[first["status"]])
    order_sync(account="main", clock=clock)
    assert orders_by_id(sandbox)[first["id"]]["modified"] == "2025-10-26 03:40:00"

    clock.now = datetime(2025, 10, 26, 1, 5, tzinfo=UTC)  # 03:05 again, second pass
    sandbox.move_order("main", second["id"], NEXT_STATUS[second["status"]])
    assert orders_by_id(sandbox)[second["id"]]["modified"] == "2025-10-26 03:05:00"
    run = order_sync(account="main", clock=clock)

    # Its local time sorts before the cursor's (03:40): only the widened overlap reaches it.
    assert (run.items_updated, run.items_created) == (1, 0)
    assert stored()[second["id"]].status == NEXT_STATUS[second["status"]]
    assert_mirror_matches(sandbox, "main")


def test_a_cursor_in_the_future_reads_nothing_new_breaks_nothing_and_comes_back(
    order_history_sandbox, clock
):
    sandbox = order_history_sandbox(orders={"main": 100}, offers={"main": 20}, accounts=["main"])
    order_sync(account="main", clock=clock)
    SyncState.objects.filter(account="main", mode="incremental").update(
        cursor=NOW + timedelta(days=30)
    )

    run = order_sync(account="main", clock=clock)

    assert (run.status, run.errors, run.items_created, run.items_updated) == (
        "completed",
        [],
        0,
        0,
    )
    state = SyncState.objects.get(account="main", mode="incremental")
    assert state.cursor <= NOW
    changed = movable(sandbox)[0]
    clock.advance(minutes=5)
    sandbox.move_order("main", changed["id"], NEXT_STATUS[changed["status"]])
    clock.advance(minutes=1)
    assert order_sync(account="main", clock=clock).items_updated == 1


def test_an_idle_account_keeps_its_cursor_close_to_now(live_sandbox, clock):
    live_sandbox(orders={"main": 5}, offers={"main": 5}, accounts=["main"], clock=clock)
    order_sync(account="main", clock=clock)
    clock.advance(days=45)

    run = order_sync(account="main", clock=clock)
    clock.advance(minutes=5)
    quiet = order_sync(account="main", clock=clock)

    assert run.parameters["windows"] == 2
    assert quiet.parameters["windows"] == 1
    assert quiet.requests <= 4


# --- Full mode, failures, CLI, export ---------------------------------------------------------


def test_full_mode_re_reads_orders_created_since_a_date_without_moving_the_cursor(
    live_sandbox, clock
):
    sandbox, _ = live_sandbox(
        orders={"main": 300}, offers={"main": 20}, accounts=["main"], clock=clock
    )
    order_sync(account="main", clock=clock)
    cursor = SyncState.objects.get(account="main", mode="incremental").cursor

    run = order_sync(account="main", mode="full", since=datetime(2025, 5, 20).date(), clock=clock)

    created_since = {o["id"] for o in sandbox.orders("main") if o["date"] >= "2025-05-20 00:00:00"}
    assert run.status == "completed" and run.parameters["windows"] == 4
    assert created_since <= set(stored())
    assert SyncState.objects.get(account="main", mode="incremental").cursor == cursor


def test_an_interrupted_full_run_resumes_after_its_last_stored_window(
    order_history_sandbox, clock, monkeypatch
):
    sandbox = order_history_sandbox(orders={"main": 300}, offers={"main": 20}, accounts=["main"])
    counts = []
    count = EmagClient.count_orders

    def fail_in_the_third_window(self, **filters):
        counts.append(filters)
        if len(counts) == 5:  # two counts (types 2 and 3) per window
            raise EmagServerError("eMAG order/count: server error HTTP 503")
        return count(self, **filters)

    monkeypatch.setattr(EmagClient, "count_orders", fail_in_the_third_window)
    interrupted = order_sync(account="main", mode="full", clock=clock)
    monkeypatch.undo()

    resumed = order_sync(account="main", mode="full", clock=clock)

    assert interrupted.status == "partial"
    assert resumed.status == "completed"
    assert resumed.parameters["from"] == counts[4]["createdAfter"].isoformat()
    assert resumed.parameters["windows"] == interrupted.parameters["windows"] - 2
    assert set(stored()) == {order["id"] for order in sandbox.orders("main")}


def test_an_unreachable_emag_ends_the_run_partial_and_keeps_the_cursor(
    order_history_sandbox, clock
):
    sandbox = order_history_sandbox(orders={"main": 100}, offers={"main": 20}, accounts=["main"])
    order_sync(account="main", clock=clock)
    cursor = SyncState.objects.get(account="main", mode="incremental").cursor
    sandbox.inject_fault("main", "http_503", action="order/read", count=None)
    clock.advance(minutes=5)
    changed = movable(sandbox)[0]
    sandbox.move_order("main", changed["id"], NEXT_STATUS[changed["status"]])

    run = order_sync(account="main", clock=clock)

    assert run.status == "partial"
    assert "503" in run.errors[-1]["message"]
    assert SyncState.objects.get(account="main", mode="incremental").cursor == cursor
    assert run.requests == run.request_logs.count() >= 2


def test_the_cli_rejects_a_bad_date_and_an_unknown_account(live_sandbox, clock):
    live_sandbox(orders={"main": 5}, offers={"main": 5}, accounts=["main"], clock=clock)

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("emag_sync", "orders", "--account", "main", "--since", "15.09.2025")
    with pytest.raises(CommandError, match="unknown eMAG account"):
        call_command("emag_sync", "orders", "--account", "nope")
    assert not SyncRun.objects.exists()


def test_the_csv_export_has_one_row_per_order_with_totals_and_lines(live_sandbox, clock, capsys):
    sandbox, _ = live_sandbox(
        orders={"main": 80, "fbe": 30}, offers={"main": 20, "fbe": 20}, clock=clock
    )
    for account in ("main", "fbe"):
        order_sync(account=account, clock=clock)
    capsys.readouterr()

    call_command("emag_export", "orders", "--account", "main")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    assert len(rows) == Order.objects.filter(account="main").count() > 0
    required = {"account", "emag_id", "status", "type", "date", "modified", "payment_mode_id"}
    assert required | {"total", "currency", "customer_name", "lines"} <= set(rows[0])
    remote = orders_by_id(sandbox)
    for row in rows:
        order = remote[int(row["emag_id"])]
        assert row["account"] == "main"
        assert (row["status"], row["type"]) == (str(order["status"]), str(order["type"]))
        assert row["customer_name"] == order["customer"]["name"]
        assert int(row["lines"]) == len(order["products"])
        local = Order.objects.get(account="main", emag_id=order["id"])
        assert Decimal(row["total"]) == local.total and row["currency"] == "RON"
