"""Local edits against eMAG changes: four strategies, three situations, and the review queue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from emag_sync.models import Conflict, ConflictStatus, LocalEdit, Offer, SyncKind
from emag_sync.services.conflicts import conflict_resolve
from emag_sync.services.local_edits import LocalEditError, local_edit_set
from emag_sync.services.offer_pages import offer_page_write
from emag_sync.services.sync_runs import sync_run_claim, sync_run_finish

pytestmark = pytest.mark.django_db

STRATEGIES = ["emag_priority", "local_priority", "newest_wins", "manual"]


def payload(**overrides) -> dict:
    offer = {
        "id": 1,
        "part_number": "SKU-1",
        "sale_price": "42.0100",
        "general_stock": 5,
        "status": 1,
    }
    offer.update(overrides)
    return offer


def sync(strategy: str, offer_payload: dict, *, fetched_at=None):
    run = sync_run_claim(account="main", kind=SyncKind.OFFERS, conflict_strategy=strategy)
    offer_page_write(
        run=run,
        account="main",
        payloads=[offer_payload],
        fetched_at=fetched_at or timezone.now(),
        strategy=strategy,
    )
    sync_run_finish(run=run, status="completed")
    return run


@pytest.fixture
def offer():
    sync("emag_priority", payload())
    return Offer.objects.get(emag_id=1)


def local_price(offer):
    edit = LocalEdit.objects.filter(offer=offer, field="sale_price").first()
    return edit.value if edit else None


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_only_emag_changed_takes_emags_value(strategy, offer):
    sync(strategy, payload(sale_price="39.9900"))
    offer.refresh_from_db()
    assert offer.sale_price == Decimal("39.9900")
    assert local_price(offer) is None
    assert not Conflict.objects.exists()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_only_local_changed_keeps_the_local_value(strategy, offer):
    local_edit_set(offer=offer, field="sale_price", value="45.00")
    sync(strategy, payload(general_stock=9))  # eMAG changed another field only
    offer.refresh_from_db()
    assert offer.sale_price == Decimal("42.0100")
    assert local_price(offer) == "45.0000"
    assert not Conflict.objects.exists()


@pytest.mark.parametrize(
    ("strategy", "edited_after_fetch", "local_kept"),
    [
        pytest.param("emag_priority", False, None, id="emag_priority drops the local value"),
        pytest.param("local_priority", False, "45.0000", id="local_priority keeps it"),
        pytest.param("newest_wins", False, None, id="newest_wins: eMAG beats an older edit"),
        pytest.param(
            "newest_wins", True, "45.0000", id="newest_wins keeps an edit made after the fetch"
        ),
    ],
)
def test_both_changed_the_strategy_decides_whether_the_local_value_stays(
    offer, strategy, edited_after_fetch, local_kept
):
    fetched_at = timezone.now() - timedelta(seconds=5) if edited_after_fetch else None
    local_edit_set(offer=offer, field="sale_price", value="45.00")
    sync(strategy, payload(sale_price="39.9900"), fetched_at=fetched_at)
    offer.refresh_from_db()
    assert offer.sale_price == Decimal("39.9900")  # the eMAG column still mirrors eMAG
    assert local_price(offer) == local_kept
    assert not Conflict.objects.exists()


def test_both_changed_under_manual_keeps_local_and_opens_one_conflict(offer):
    local_edit_set(offer=offer, field="sale_price", value="45.00")
    run = sync("manual", payload(sale_price="39.9900"))
    sync("manual", payload(sale_price="38.0000"))

    conflict = Conflict.objects.get()
    assert local_price(offer) == "45.0000"
    assert (conflict.base_value, conflict.local_value, conflict.emag_value) == (
        "42.0100",
        "45.0000",
        "38.0000",
    )
    assert conflict.status == ConflictStatus.OPEN
    assert conflict.detected_in_id != run.pk  # updated by the later run


def test_accepting_emag_resolves_the_conflict_and_drops_the_local_value(offer):
    local_edit_set(offer=offer, field="sale_price", value="45.00")
    sync("manual", payload(sale_price="39.9900"))
    conflict = Conflict.objects.get()

    assert conflict_resolve(conflicts=[conflict], resolution="accept_emag") == 1

    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolution) == ("resolved", "accept_emag")
    assert local_price(offer) is None


def test_keeping_local_resolves_the_conflict_and_keeps_the_local_value(offer):
    local_edit_set(offer=offer, field="sale_price", value="45.00")
    sync("manual", payload(sale_price="39.9900"))
    conflict_resolve(conflicts=list(Conflict.objects.all()), resolution="keep_local")
    assert Conflict.objects.get().resolution == "keep_local"
    assert local_price(offer) == "45.0000"


def test_setting_a_value_resolves_the_conflict_with_that_value(offer):
    local_edit_set(offer=offer, field="sale_price", value="45.00")
    sync("manual", payload(sale_price="39.9900"))
    conflict_resolve(conflicts=list(Conflict.objects.all()), resolution="set", value="41.5")
    assert local_price(offer) == "41.5000"
    assert Conflict.objects.get().status == "resolved"


def test_a_conflict_closes_by_itself_when_emag_reaches_the_local_value(offer):
    local_edit_set(offer=offer, field="sale_price", value="45.00")
    sync("manual", payload(sale_price="39.9900"))
    sync("manual", payload(sale_price="45.0000"))
    conflict = Conflict.objects.get()
    assert (conflict.status, conflict.resolution) == ("resolved", "converged")
    assert local_price(offer) is None


def test_fbe_stock_cannot_be_edited_locally():
    sync_run = sync_run_claim(account="fbe", kind=SyncKind.OFFERS)
    offer_page_write(
        run=sync_run,
        account="fbe",
        payloads=[payload()],
        fetched_at=timezone.now(),
        strategy="emag_priority",
    )
    fbe_offer = Offer.objects.get(account="fbe")
    with pytest.raises(LocalEditError, match="FBE"):
        local_edit_set(offer=fbe_offer, field="general_stock", value=3)


def test_a_bad_local_value_is_refused_and_nothing_is_written(offer):
    with pytest.raises(LocalEditError, match="sale_price"):
        local_edit_set(offer=offer, field="sale_price", value="cheap")
    assert not LocalEdit.objects.exists()
