"""The outbox: one pending push per offer, written with the edit, coalesced, and settled safely."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from emag_sync.client import ItemOutcome, OfferSaveResult
from emag_sync.models import Conflict, ConflictStatus, LocalEdit, OfferPush, PushState, SyncKind
from emag_sync.services.conflicts import conflict_resolve
from emag_sync.services.local_edits import (
    local_edit_clear,
    local_edit_set,
    offer_local_update,
    offers_local_values_write,
)
from emag_sync.services.push_outbox import (
    outbox_retry,
    push_outcomes_record,
    pushes_claim,
    pushes_read_back,
    pushes_unfinished,
)
from emag_sync.services.sync_runs import sync_run_claim
from tests.factories import make_offer
from tests.push_support import offer_payload, stored_offer, sync_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer():
    return stored_offer()


@pytest.fixture
def run():
    return sync_run_claim(account="main", kind=SyncKind.PUSH)


def pending():
    return OfferPush.objects.get(state=PushState.PENDING)


def test_an_edit_records_its_push_in_the_same_transaction(offer):
    with pytest.raises(RuntimeError), transaction.atomic():
        local_edit_set(offer=offer, field="sale_price", value="1250")
        assert OfferPush.objects.count() == 1
        raise RuntimeError("the edit fails after all")

    assert not OfferPush.objects.exists() and not LocalEdit.objects.exists()


def test_later_edits_coalesce_into_one_pending_push_with_the_newest_values(offer, admin_user):
    local_edit_set(offer=offer, field="sale_price", value="1250")
    local_edit_set(offer=offer, field="general_stock", value=7)
    local_edit_set(offer=offer, field="sale_price", value="1260.5", user=admin_user)

    push = pending()
    assert push.values == {"sale_price": "1260.5000", "general_stock": 7}
    assert push.requested_by == admin_user
    assert push.account == "main"


def test_local_only_fields_are_never_queued(offer):
    offer_local_update(offer=offer, edits={"name": "Renamed", "description": "<p>x</p>"})

    assert not OfferPush.objects.exists()


def test_a_reverted_or_cleared_edit_drops_its_field_and_an_empty_push_goes(offer):
    offer_local_update(offer=offer, edits={"sale_price": "1250", "general_stock": 7})

    local_edit_set(offer=offer, field="sale_price", value="1200")  # eMAG's own value again
    assert pending().values == {"general_stock": 7}
    local_edit_clear(offer=offer, field="general_stock")

    assert not OfferPush.objects.exists()


def write_prices(offers, price: str) -> int:
    """Give the offers a local sale price and stock in one batch; return the queries it took."""
    with CaptureQueriesContext(connection) as queries:
        offers_local_values_write(
            values_by_offer={offer: {"sale_price": price, "general_stock": 3} for offer in offers}
        )
    return len(queries)


def test_a_batch_of_local_values_takes_as_many_queries_for_50_offers_as_for_5():
    few = [make_offer() for _ in range(5)]
    many = [make_offer() for _ in range(50)]

    assert write_prices(many, "120.0000") == write_prices(few, "120.0000")
    assert LocalEdit.objects.count() == 110
    assert OfferPush.objects.filter(state=PushState.PENDING).count() == 55


def test_a_batch_coalesces_into_pending_pushes_and_opens_one_for_the_others():
    waiting, sent, fresh = make_offer(), make_offer(), make_offer()
    local_edit_set(offer=waiting, field="handling_time", value=2)
    local_edit_set(offer=sent, field="sale_price", value="90")
    OfferPush.objects.filter(offer=sent).update(state=PushState.APPLIED)

    write_prices([waiting, sent, fresh], "120.0000")

    pushes = {push.offer_id: push for push in OfferPush.objects.filter(state=PushState.PENDING)}
    assert pushes[waiting.pk].values == {
        "handling_time": 2,
        "sale_price": "120.0000",
        "general_stock": 3,
    }
    written = {"sale_price": "120.0000", "general_stock": 3}
    assert pushes[sent.pk].values == written
    assert pushes[fresh.pk].values == written
    # Each offer keeps one current push: the new one; the applied push became history.
    current = OfferPush.objects.filter(is_current=True)
    assert sorted(current.values_list("offer_id", flat=True)) == sorted(pushes)
    assert OfferPush.objects.get(offer=sent, state=PushState.APPLIED).is_current is False


def test_a_batch_meeting_emags_values_drops_the_edits_and_their_pending_fields():
    offers = [make_offer(), make_offer()]
    write_prices(offers, "120.0000")

    # 100.0000 and stock 5 are what eMAG holds (the factory's values).
    offers_local_values_write(
        values_by_offer={offer: {"sale_price": "100.0000", "general_stock": 5} for offer in offers}
    )

    assert not LocalEdit.objects.exists()
    assert not OfferPush.objects.exists()


def test_an_edit_made_while_its_batch_is_in_flight_stays_pending_for_the_next(offer, run):
    local_edit_set(offer=offer, field="sale_price", value="1250")
    [claimed] = pushes_claim(account="main", run=run, limit=50).claimed

    local_edit_set(offer=offer, field="sale_price", value="1300")
    push_outcomes_record(pushes=[claimed], results={1: OfferSaveResult(1, ItemOutcome.APPLIED)})

    claimed.push.refresh_from_db()
    assert (claimed.push.state, claimed.push.values) == (
        PushState.APPLIED,
        {"sale_price": "1250.0000"},
    )
    assert pending().values == {"sale_price": "1300.0000"}


def test_a_claim_sends_what_the_local_edits_say_now(offer, run):
    offer_local_update(offer=offer, edits={"sale_price": "1250", "general_stock": 7})
    # An emag_priority sync lost the price edit to eMAG's change meanwhile.
    sync_page([offer_payload(sale_price="1111.0000")], strategy="emag_priority")

    [claimed] = pushes_claim(account="main", run=run, limit=50).claimed

    assert claimed.values == {"general_stock": 7}
    assert (claimed.emag_id, claimed.offer_id, claimed.stock_warehouse) == (1, 90_000_001, 1)
    assert claimed.push.state == PushState.SENDING and claimed.push.run == run


def test_a_push_with_nothing_left_is_closed_as_dropped(offer, run):
    local_edit_set(offer=offer, field="sale_price", value="1250")
    sync_page([offer_payload(sale_price="1111.0000")], strategy="emag_priority")

    report = pushes_claim(account="main", run=run, limit=50)

    assert (report.claimed, report.dropped) == ([], 1)
    assert OfferPush.objects.get().state == PushState.DROPPED


def test_a_field_under_an_open_conflict_waits_until_kept_local(offer, run):
    offer_local_update(offer=offer, edits={"sale_price": "1250", "general_stock": 7})
    sync_page([offer_payload(sale_price="1111.0000")], strategy="manual")
    conflict = Conflict.objects.get(status=ConflictStatus.OPEN)

    [claimed] = pushes_claim(account="main", run=run, limit=50).claimed
    assert claimed.values == {"general_stock": 7}
    assert pending().values == {"sale_price": "1250.0000"}
    assert pushes_claim(account="main", run=run, limit=50).claimed == []

    conflict_resolve(conflicts=[conflict], resolution="keep_local")
    [again] = pushes_claim(account="main", run=run, limit=50).claimed
    assert again.values == {"sale_price": "1250.0000"}


def test_accepting_emags_value_drops_the_held_push(offer, run):
    local_edit_set(offer=offer, field="sale_price", value="1250")
    sync_page([offer_payload(sale_price="1111.0000")], strategy="manual")

    conflict_resolve(conflicts=list(Conflict.objects.all()), resolution="accept_emag")

    assert not OfferPush.objects.exists()


def test_item_outcomes_are_stored_each_on_its_own(run):
    offers = [stored_offer(emag_id) for emag_id in (1, 2, 3)]
    for offer in offers:
        local_edit_set(offer=offer, field="status", value=0)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed

    counts = push_outcomes_record(
        pushes=claimed,
        results={
            1: OfferSaveResult(1, ItemOutcome.APPLIED),
            2: OfferSaveResult(2, ItemOutcome.REJECTED, ("Campaign BF: stock locked",)),
            3: OfferSaveResult(3, ItemOutcome.UNKNOWN),
        },
    )

    states = dict(OfferPush.objects.values_list("offer__emag_id", "state"))
    assert states == {1: "applied", 2: "rejected", 3: "uncertain"}
    assert OfferPush.objects.get(offer__emag_id=2).messages == ["Campaign BF: stock locked"]
    assert (counts.applied, counts.rejected, counts.uncertain) == (1, 1, 1)
    assert OfferPush.objects.get(offer__emag_id=1).sends == 1


def test_a_rejected_push_is_not_sent_again_until_retried(offer, run):
    local_edit_set(offer=offer, field="status", value=0)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(pushes=claimed, results={1: OfferSaveResult(1, ItemOutcome.REJECTED)})

    assert pushes_claim(account="main", run=run, limit=50).claimed == []
    assert outbox_retry(pushes=OfferPush.objects.all()) == 1
    assert pending().values == {"status": 0}


def test_uncertain_pushes_read_back_become_applied_or_pending_again(run):
    offers = [stored_offer(emag_id) for emag_id in (1, 2, 3)]
    for offer in offers:
        local_edit_set(offer=offer, field="general_stock", value=9)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(pushes=claimed, results={})  # no answer: all uncertain
    local_edit_set(offer=offers[2], field="sale_price", value="1250")  # newer edit of offer 3

    unfinished = pushes_unfinished(account="main", run=run)
    counts = pushes_read_back(
        pushes=unfinished,
        payloads={
            1: offer_payload(1, general_stock=9, stock=[{"warehouse_id": 1, "value": 9}]),
            2: offer_payload(2),  # eMAG never got it
            3: offer_payload(3),
        },
    )

    states = dict(OfferPush.objects.filter(run=run).values_list("offer__emag_id", "state"))
    assert states == {1: "applied", 2: "pending", 3: "dropped"}
    # The newer edit's push carries the unsent stock too, its own values winning.
    newer = OfferPush.objects.get(offer__emag_id=3, state=PushState.PENDING)
    assert newer.values == {"general_stock": 9, "sale_price": "1250.0000"}
    assert (counts.applied, counts.resend) == (1, 2)


def test_an_offer_emag_no_longer_returns_is_rejected_on_read_back(offer, run):
    local_edit_set(offer=offer, field="status", value=0)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed

    pushes_read_back(pushes=claimed, payloads={1: None})

    push = OfferPush.objects.get()
    assert push.state == PushState.REJECTED and "no longer returns" in push.messages[0]


@pytest.mark.parametrize("strategy", ["emag_priority", "local_priority", "newest_wins", "manual"])
def test_a_sync_showing_the_pushed_value_confirms_it_with_no_conflict(offer, run, strategy):
    local_edit_set(offer=offer, field="sale_price", value="1250")
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(pushes=claimed, results={1: OfferSaveResult(1, ItemOutcome.APPLIED)})

    sync_page([offer_payload(sale_price="1250.0000")], strategy=strategy)

    assert OfferPush.objects.get().state == PushState.CONFIRMED
    assert not LocalEdit.objects.exists()
    assert not Conflict.objects.exists()


@pytest.mark.parametrize("strategy", ["emag_priority", "manual", "newest_wins"])
def test_a_sync_seeing_our_write_arrive_neither_undoes_a_newer_edit_nor_opens_a_conflict(
    offer, run, strategy
):
    local_edit_set(offer=offer, field="sale_price", value="1250")
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    local_edit_set(offer=offer, field="sale_price", value="1300")  # while the batch is in flight

    sync_page([offer_payload(sale_price="1250.0000")], strategy=strategy)

    assert LocalEdit.objects.get().value == "1300.0000"
    assert not Conflict.objects.exists()
    claimed[0].push.refresh_from_db()
    assert claimed[0].push.state == PushState.CONFIRMED
    assert pending().values == {"sale_price": "1300.0000"}


# --- Where the push state shows -----------------------------------------------------------


def test_the_offer_shows_its_push_state_in_the_api_and_the_admin(
    offer, run, admin_client, admin_user
):
    from rest_framework.test import APIClient

    local_edit_set(offer=offer, field="status", value=0)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(
        pushes=claimed, results={1: OfferSaveResult(1, ItemOutcome.REJECTED, ("Price locked",))}
    )
    api = APIClient()
    api.force_authenticate(admin_user)

    detail = api.get(f"/api/v2/emag/products/products/{offer.pk}").json()
    listed = api.get("/api/v2/emag/products/products").json()
    rejected = admin_client.get("/admin/emag_sync/offer/?push=rejected")
    pending_only = admin_client.get("/admin/emag_sync/offer/?push=pending")
    pushes = admin_client.get("/admin/emag_sync/offerpush/")

    assert (detail["push_state"], detail["push_messages"]) == ("rejected", ["Price locked"])
    assert [item["push_state"] for item in listed["results"]] == ["rejected"]
    assert rejected.context["cl"].result_count == 1
    assert 'title="Price locked">rejected<' in rejected.content.decode()
    assert pending_only.context["cl"].result_count == 0
    assert pushes.status_code == 200 and "Price locked" in pushes.content.decode()

    local_edit_set(offer=offer, field="status", value=2)  # a new edit: the state is pending
    assert api.get(f"/api/v2/emag/products/products/{offer.pk}").json()["push_state"] == "pending"


def test_the_dashboard_shows_pending_and_rejected_pushes_and_the_last_push_run(
    offer, run, admin_client
):
    from django.urls import reverse

    from emag_sync.services.sync_runs import sync_run_finish

    second = stored_offer(2)
    local_edit_set(offer=offer, field="status", value=0)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(pushes=claimed, results={1: OfferSaveResult(1, ItemOutcome.REJECTED)})
    sync_run_finish(run=run, status="completed")
    local_edit_set(offer=second, field="status", value=0)

    response = admin_client.get(reverse("admin:emag_sync_dashboard"))

    main = {card.name: card for card in response.context["accounts"]}["main"]
    assert (main.pending_pushes, main.rejected_pushes) == (1, 1)
    assert main.push_stream.last_success.pk == run.pk
    assert not main.push_stream.is_stale
    page = response.content.decode()
    assert "1 pending</a>" in page and "1 rejected</a>" in page and "Last push" in page


def test_the_offer_page_shows_its_push_and_emags_messages(offer, run, admin_client):
    local_edit_set(offer=offer, field="status", value=0)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(
        pushes=claimed, results={1: OfferSaveResult(1, ItemOutcome.REJECTED, ("Status locked",))}
    )

    page = admin_client.get(f"/admin/emag_sync/offer/{offer.pk}/change/").content.decode()

    assert "Rejected</strong>: eMAG said Status locked." in page
    assert "/admin/emag_sync/offerpush/?q=SKU-1" in page
