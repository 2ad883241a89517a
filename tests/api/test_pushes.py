"""The push API: PATCH queues a push and says so, push now, push an account, list pushes."""

import pytest

from emag_sync import tasks
from emag_sync.client import ItemOutcome, OfferSaveResult
from emag_sync.models import OfferPush, SyncKind, SyncRun
from emag_sync.services.local_edits import local_edit_set
from emag_sync.services.push_outbox import push_outcomes_record, pushes_claim
from emag_sync.services.sync_runs import sync_run_claim
from tests.api.conftest import API, client_for
from tests.push_support import stored_offer

PRODUCTS = f"{API}/emag/products/products"


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(
        tasks.push_offers_task, "apply_async", lambda **options: calls.append(options)
    )
    return calls


def test_a_patch_queues_the_push_and_its_answer_says_so(api):
    offer = stored_offer()

    response = api.patch(f"{PRODUCTS}/{offer.pk}", {"sale_price": "1250"}, format="json")

    assert response.status_code == 200
    assert response.json()["push_state"] == "pending"
    assert OfferPush.objects.get().values == {"sale_price": "1250.0000"}


def test_push_now_queues_the_account_push_and_retries_a_rejected_one(
    api, sent, django_capture_on_commit_callbacks
):
    offer = stored_offer()
    local_edit_set(offer=offer, field="status", value=0)
    run = sync_run_claim(account="main", kind=SyncKind.PUSH)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(pushes=claimed, results={1: OfferSaveResult(1, ItemOutcome.REJECTED)})

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{PRODUCTS}/{offer.pk}/push")

    assert response.status_code == 202
    assert response.json() == {"queued": True, "push_state": "pending", "detail": "Push queued."}
    assert [call["kwargs"]["account"] for call in sent] == ["main"]


def test_push_now_with_nothing_local_queues_nothing(api, sent):
    offer = stored_offer()

    response = api.post(f"{PRODUCTS}/{offer.pk}/push")

    assert response.status_code == 200 and response.json()["queued"] is False
    assert sent == []
    assert api.post(f"{PRODUCTS}/999999/push").status_code == 404


def test_pushing_an_account_queues_a_run_for_the_workers(
    api, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{API}/emag/products/push", {"account_type": "main"}, format="json")

    assert response.status_code == 202
    run = SyncRun.objects.get(kind=SyncKind.PUSH)
    assert run.status == "queued" and response.json()["run_ids"] == [run.pk]
    assert sent == [
        {
            "kwargs": {"account": "main", "run_id": run.pk, "triggered_by": "root"},
            "task_id": f"sync-run-{run.pk}",
        }
    ]
    busy = api.post(f"{API}/emag/products/push", {"account_type": "main"}, format="json")
    assert busy.status_code == 409 and busy.json()["run_ids"] == [run.pk]


def test_a_dry_run_answers_the_requests_and_sends_nothing(api, sent):
    offer = stored_offer()
    local_edit_set(offer=offer, field="general_stock", value=8)

    response = api.post(
        f"{API}/emag/products/push", {"account_type": "main", "dry_run": True}, format="json"
    )

    assert response.status_code == 200
    [request] = response.json()["requests"]["main"]
    assert request["method"] == "POST" and request["url"].endswith("/main/api-3/offer/save")
    assert request["body"] == [{"id": 1, "stock": [{"warehouse_id": 1, "value": 8}]}]
    assert sent == [] and not SyncRun.objects.filter(kind=SyncKind.PUSH).exists()


def test_bad_push_requests_are_400s(api):
    assert (
        api.post(f"{API}/emag/products/push", {"account_type": "nope"}, format="json").status_code
        == 400
    )
    assert api.post(f"{API}/emag/products/push", {"dry": True}, format="json").status_code == 400


def test_pushes_are_listed_with_their_outcome_and_filtered(api):
    offers = [stored_offer(emag_id) for emag_id in (1, 2)]
    for offer in offers:
        local_edit_set(offer=offer, field="status", value=0)
    local_edit_set(offer=offers[1], field="general_stock", value=3)
    run = sync_run_claim(account="main", kind=SyncKind.PUSH)
    claimed = pushes_claim(account="main", run=run, limit=50).claimed
    push_outcomes_record(
        pushes=claimed,
        results={
            1: OfferSaveResult(1, ItemOutcome.APPLIED),
            2: OfferSaveResult(2, ItemOutcome.REJECTED, ("No",)),
        },
    )

    listed = api.get(f"{API}/emag/pushes").json()["results"]
    rejected = api.get(f"{API}/emag/pushes", {"state": "rejected"}).json()["results"]
    with_stock = api.get(f"{API}/emag/pushes", {"field": "general_stock"}).json()["results"]

    assert {push["emag_id"]: push["state"] for push in listed} == {1: "applied", 2: "rejected"}
    assert [(push["emag_id"], push["messages"]) for push in rejected] == [(2, ["No"])]
    assert [push["pushed_fields"] for push in with_stock] == [["general_stock", "status"]]
    assert rejected[0]["run_id"] == run.pk and rejected[0]["account_type"] == "main"
    assert api.get(f"{API}/emag/pushes", {"state": "odd"}).status_code == 400


def test_pushing_needs_the_run_permission_and_listing_the_view_one(reader, outsider):
    assert (
        client_for(reader).post(f"{API}/emag/products/push", {}, format="json").status_code == 403
    )
    assert client_for(reader).get(f"{API}/emag/pushes").status_code == 200
    assert client_for(outsider).get(f"{API}/emag/pushes").status_code == 403
