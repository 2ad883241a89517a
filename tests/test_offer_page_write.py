"""One page of offers is written in a fixed number of statements, and only when it changed."""

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from emag_sync.models import Offer, OfferChange, SyncKind, SyncState
from emag_sync.selectors import offer_search
from emag_sync.services import offer_pages
from emag_sync.services.offer_pages import Checkpoint, offer_page_write
from emag_sync.services.sync_runs import sync_run_claim

pytestmark = pytest.mark.django_db


def payload(emag_id: int, **overrides) -> dict:
    offer = {
        "id": emag_id,
        "part_number": f"SKU-{emag_id}",
        "part_number_key": f"D{emag_id:05d}BM",
        "name": f"Cafetieră {emag_id}",
        "sale_price": "42.0100",
        "currency": "RON",
        "status": 1,
        "general_stock": 5,
        "ean": [f"594{emag_id:010d}"],
        "validation_status": [{"value": 9, "description": "Approved documentation"}],
    }
    offer.update(overrides)
    return offer


def write(run, payloads, page=1):
    return offer_page_write(
        run=run,
        account="main",
        payloads=payloads,
        fetched_at=timezone.now(),
        strategy="emag_priority",
        page=page,
        checkpoint=Checkpoint(
            account="main", stream=SyncKind.OFFERS, mode="full", next_page=page + 1
        ),
    )


@pytest.fixture
def run():
    return sync_run_claim(account="main", kind=SyncKind.OFFERS)


def test_a_100_offer_page_takes_as_many_statements_as_a_1_offer_page(run):
    write(run, [payload(1)])  # the stream's first page also creates its checkpoint row
    with CaptureQueriesContext(connection) as one:
        write(run, [payload(2)], page=2)
    with CaptureQueriesContext(connection) as hundred:
        write(run, [payload(emag_id) for emag_id in range(1000, 1100)], page=3)

    assert Offer.objects.count() == 102
    assert len(one.captured_queries) == len(hundred.captured_queries)


def test_an_unchanged_page_writes_no_offer_change_or_ean_row(run):
    write(run, [payload(1), payload(2)])
    with CaptureQueriesContext(connection) as second:
        result = write(run, [payload(1), payload(2)])

    offer_writes = [
        query["sql"]
        for query in second.captured_queries
        if query["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and any(
            table in query["sql"]
            for table in (
                'emag_sync_offer"',
                "emag_sync_offerchange",
                "emag_sync_conflict",
            )
        )
    ]
    assert offer_writes == []
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)


def test_a_changed_offer_is_updated_in_place_with_its_field_changes_recorded(run):
    write(run, [payload(1)])
    first = Offer.objects.get(emag_id=1)

    result = write(
        run, [payload(1, sale_price="39.9900", part_number="SKU-RENAMED", number_of_offers=4)]
    )

    offer = Offer.objects.get(emag_id=1)
    assert offer.pk == first.pk
    assert offer.sale_price == Decimal("39.9900")
    assert offer.part_number == "SKU-RENAMED"
    assert result.updated == 1
    changes = {
        change.field: (change.old_value, change.new_value) for change in OfferChange.objects.all()
    }
    assert changes == {
        "sale_price": ("42.0100", "39.9900"),
        "part_number": ("SKU-1", "SKU-RENAMED"),
    }


def test_parts_shown_only_are_read_from_the_payload_and_their_changes_recorded(run):
    images = [{"display_type": 1, "url": "https://example.test/1.jpg"}]
    write(run, [payload(1, images=images, safety_information="Keep dry")])
    offer = Offer.objects.get(emag_id=1)
    assert (offer.images, offer.safety_information, offer.family) == (images, "Keep dry", None)

    moved = [{"display_type": 1, "url": "https://example.test/2.jpg"}]
    write(run, [payload(1, images=moved, safety_information="Keep dry")])

    offer.refresh_from_db()
    assert offer.images == moved
    change = OfferChange.objects.get()
    assert (change.field, change.old_value, change.new_value) == ("images", images, moved)


def test_a_page_reports_how_long_its_transaction_took(run):
    started = time.perf_counter()
    result = write(run, [payload(emag_id) for emag_id in range(1, 51)])
    elapsed = time.perf_counter() - started

    # Parsing the page comes before the transaction and is not counted.
    assert 0 < result.transaction_seconds < elapsed


def test_the_checkpoint_commits_with_the_page(run):
    write(run, [payload(1)], page=4)
    state = SyncState.objects.get(account="main", stream=SyncKind.OFFERS, mode="full")
    assert state.next_page == 5
    assert state.run_id == run.pk


def test_an_offer_is_found_by_the_eans_it_has_now_and_no_others(run):
    write(run, [payload(1, ean=["5940000000017", "5940000000024"])])
    write(run, [payload(1, ean=["5940000000031"]), payload(2, ean=["15940000000017"])])

    def found(ean: str) -> list[int]:
        searched = offer_search(offers=Offer.objects.all(), term=ean)
        return list(searched.values_list("emag_id", flat=True))

    assert found("5940000000031") == [1]
    assert found("5940000000017") == []  # dropped by eMAG, and no part of another EAN
    assert found("15940000000017") == [2]


def test_an_offer_another_writer_stored_after_the_look_up_is_updated_not_duplicated(
    run, monkeypatch
):
    write(run, [payload(1)])
    stored = Offer.objects.get()
    real_look_up = offer_pages._stored_states
    look_ups = []

    def misses_the_other_writers_offer_once(**kwargs):
        look_ups.append(kwargs)
        return {} if len(look_ups) == 1 else real_look_up(**kwargs)

    monkeypatch.setattr(offer_pages, "_stored_states", misses_the_other_writers_offer_once)
    result = write(run, [payload(1, name="Cafetieră redenumită"), payload(2)], page=2)

    # The insert failed on offer 1, and the page was written again from a fresh look-up.
    assert len(look_ups) == 2
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert sorted(Offer.objects.values_list("emag_id", "name")) == [
        (1, "Cafetieră redenumită"),
        (2, "Cafetieră 2"),
    ]
    assert Offer.objects.get(emag_id=1).pk == stored.pk
    assert list(OfferChange.objects.values_list("field", flat=True)) == ["name"]
    run.refresh_from_db()
    # The failed attempt's counters rolled back with it.
    assert (run.pages_done, run.items_seen, run.items_created, run.items_updated) == (2, 3, 2, 1)


def test_an_offer_without_an_id_fails_alone_and_the_rest_of_the_page_is_written(run):
    result = write(run, [payload(1), {**payload(2), "id": None}, payload(3)])
    assert result.failed == 1
    assert "id is missing" in result.errors[0]["message"]
    assert set(Offer.objects.values_list("emag_id", flat=True)) == {1, 3}


def test_an_offer_with_an_unreadable_field_is_stored_with_it_empty_and_a_warning(run):
    result = write(run, [payload(1), payload(2, sale_price="not a price"), payload(3)])

    assert (result.created, result.failed, result.warned) == (3, 0, 1)
    assert result.warnings[0]["offer"] == 2 and "sale_price" in result.warnings[0]["message"]
    offer = Offer.objects.get(emag_id=2)
    assert offer.sale_price is None and offer.name == "Cafetieră 2"
    assert offer.raw["sale_price"] == "not a price"
    assert offer.read_warnings == ["sale_price should be a price, got 'not a price'"]
    assert Offer.objects.get(emag_id=1).read_warnings == []
    run.refresh_from_db()
    assert (run.items_created, run.items_failed, run.items_warned) == (3, 0, 1)


def test_run_counters_add_up_after_each_page(run):
    write(run, [payload(1), payload(2)], page=1)
    write(run, [payload(1, sale_price="1.0000"), payload(3)], page=2)
    run.refresh_from_db()
    assert (
        run.pages_done,
        run.items_seen,
        run.items_created,
        run.items_updated,
        run.items_unchanged,
    ) == (
        2,
        4,
        3,
        1,
        0,
    )
