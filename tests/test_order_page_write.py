"""A page of orders is written in a fixed number of statements, and only what changed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from emag_sync.models import (
    Order,
    OrderLine,
    OrderStatusChange,
    SyncKind,
    SyncRun,
    SyncState,
)
from emag_sync.sandbox import generate_offers, generate_orders
from emag_sync.services.order_pages import (
    CursorAdvance,
    order_lines_link_offers,
)
from emag_sync.services.sync_runs import sync_run_claim
from tests.orders_support import (
    NOW,
    order_writes,
    store_bare_offers,
    write_order_page,
)

pytestmark = pytest.mark.django_db

OFFERS = generate_offers("main", 40)
ORDERS = generate_orders("main", 120, 42, NOW, offers=OFFERS)


@pytest.fixture
def run():
    return sync_run_claim(account="main", kind=SyncKind.ORDERS, mode="incremental")


def test_a_stored_id_of_two_to_the_fortieth_reads_back_exactly(run):
    payload = {**ORDERS[0], "id": 2**40}

    write_order_page(run, [payload])

    order = Order.objects.get(account="main", emag_id=2**40)
    assert order.emag_id == 1_099_511_627_776
    assert Order.objects.filter(emag_id__gt=2**32).count() == 1


def test_new_orders_are_stored_with_lines_a_first_status_and_counters(run):
    result = write_order_page(run, ORDERS[:50])

    assert (result.seen, result.created, result.updated, result.unchanged) == (50, 50, 0, 0)
    assert Order.objects.count() == 50
    assert OrderLine.objects.count() == sum(len(order["products"]) for order in ORDERS[:50])
    assert OrderStatusChange.objects.filter(from_status=None, run=run).count() == 50
    run.refresh_from_db()
    assert (run.pages_done, run.items_seen, run.items_created) == (1, 50, 50)


def test_the_statement_count_of_a_page_does_not_grow_with_its_size(run):
    with CaptureQueriesContext(connection) as small:
        write_order_page(run, ORDERS[:5])
    with CaptureQueriesContext(connection) as large:
        write_order_page(run, ORDERS[5:105])

    assert len(large.captured_queries) == len(small.captured_queries)


def test_an_unchanged_page_writes_no_order_rows(run):
    write_order_page(run, ORDERS[:100])

    with CaptureQueriesContext(connection) as queries:
        result = write_order_page(run, ORDERS[:100])

    assert order_writes(queries) == []
    assert (result.unchanged, result.created, result.updated) == (100, 0, 0)


def test_a_changed_order_rewrites_its_lines_and_records_its_status_move(run):
    write_order_page(run, ORDERS[:10])
    changed = {**ORDERS[3], "status": 0, "modified": "2025-09-15 12:40:00", "products": []}

    result = write_order_page(run, [changed, *ORDERS[4:6]])

    assert (result.updated, result.unchanged) == (1, 2)
    order = Order.objects.get(emag_id=changed["id"])
    assert order.status == 0 and order.lines.count() == 0
    move = OrderStatusChange.objects.get(order=order, from_status=ORDERS[3]["status"])
    assert move.to_status == 0
    assert move.changed_at == datetime(2025, 9, 15, 9, 40, tzinfo=UTC)
    assert move.source == "sync"


def test_lines_link_to_the_local_offer_with_the_seller_product_id(run):
    store_bare_offers(offer["id"] for offer in OFFERS)
    store_bare_offers([10**9], account="fbe")  # the same seller id on another account: no match

    write_order_page(run, ORDERS[:30])

    lines = OrderLine.objects.select_related("offer")
    assert lines.exists()
    assert all(line.offer is not None and line.offer.emag_id == line.product_id for line in lines)
    assert {line.offer.account for line in lines} == {"main"}


def test_lines_stored_before_their_offer_are_linked_once_it_arrives(run):
    write_order_page(run, ORDERS[:20])
    assert not OrderLine.objects.filter(offer__isnull=False).exists()
    store_bare_offers(offer["id"] for offer in OFFERS)

    linked = order_lines_link_offers(account="main")

    assert linked == OrderLine.objects.count() > 0
    assert order_lines_link_offers(account="main") == 0


def test_an_order_without_an_id_fails_alone(run):
    broken = {**ORDERS[1], "id": None}

    result = write_order_page(run, [ORDERS[0], broken, ORDERS[2]])

    assert (result.created, result.failed) == (2, 1)
    assert result.errors[0]["position"] == 1
    assert "id is missing" in result.errors[0]["message"]


def test_an_order_with_an_unreadable_field_is_stored_and_counted_as_a_warning(run):
    broken = {**ORDERS[1], "shipping_tax": "free"}

    result = write_order_page(run, [ORDERS[0], broken, ORDERS[2]])

    assert (result.created, result.failed, result.warned) == (3, 0, 1)
    assert result.warnings[0]["order"] == ORDERS[1]["id"]
    order = Order.objects.get(emag_id=ORDERS[1]["id"])
    assert order.shipping_tax is None and order.raw["shipping_tax"] == "free"
    assert order.read_warnings == ["shipping_tax should be a price, got 'free'"]
    run.refresh_from_db()
    assert (run.items_failed, run.items_warned) == (0, 1)


def test_an_order_without_a_status_is_stored_with_none_and_no_status_move(run):
    result = write_order_page(run, [{**ORDERS[0], "status": None}])

    order = Order.objects.get(emag_id=ORDERS[0]["id"])
    assert result.created == 1 and order.status is None
    assert order.read_warnings == ["status is missing"]
    assert not OrderStatusChange.objects.filter(order=order).exists()


def test_the_cursor_commits_with_the_page_at_the_newest_modified_within_its_bounds(run):
    floor = NOW - timedelta(days=200)
    advance = CursorAdvance(mode="incremental", floor=floor, ceiling=NOW)

    result = write_order_page(run, ORDERS[:40], cursor=advance)

    state = SyncState.objects.get(account="main", stream="orders", mode="incremental")
    assert (
        state.cursor
        == result.newest_modified
        == max(Order.objects.values_list("modified", flat=True))
    )
    assert state.run_id == run.pk

    ceiling = floor + timedelta(hours=1)
    write_order_page(
        run, ORDERS[:40], cursor=CursorAdvance(mode="incremental", floor=floor, ceiling=ceiling)
    )
    state.refresh_from_db()
    assert state.cursor == ceiling


def test_acknowledged_orders_record_when_and_the_source_of_their_move(run):
    new_order = next(order for order in ORDERS if order["status"] == 1)
    write_order_page(run, [new_order])
    acknowledged = {**new_order, "status": 2, "modified": "2025-09-15 12:31:00"}
    at = timezone.now()

    write_order_page(run, [acknowledged], acknowledged_at=at)

    order = Order.objects.get(emag_id=new_order["id"])
    assert (order.status, order.acknowledged_at) == (2, at)
    assert order.status_changes.get(from_status=1).source == "acknowledge"
    assert SyncRun.objects.get(pk=run.pk).items_updated == 1
