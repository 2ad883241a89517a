"""The three sync modes, deletion detection, cancel, and how runs end on eMAG faults."""

import json
import math
from unittest import mock

import pytest
import responses
from django.db import connection

from emag_sync.models import Offer, SyncKind, SyncRun, SyncState
from emag_sync.sandbox import Sandbox
from emag_sync.sandbox.responses_adapter import api_url, register
from emag_sync.services import offer_sync as engine
from emag_sync.services.offer_sync import OfferSyncOptions, SyncOptionsError, offer_sync
from emag_sync.services.sync_runs import SyncAlreadyRunning, sync_run_cancel, sync_run_claim
from tests.conftest import point_accounts_at

pytestmark = pytest.mark.django_db(transaction=True)

BASE_URL = "http://sandbox.emag.test"


@pytest.fixture
def in_process_sandbox(monkeypatch, settings, fast_retries):
    """Serve a sandbox through `responses`, recording every request the client sends."""
    settings.EMAG_RATE_LIMIT = False

    def start(**options):
        options.setdefault("rate_limit", False)
        sandbox = Sandbox(**options)
        mock_http = responses.RequestsMock(assert_all_requests_are_fired=False)
        mock_http.start()
        register(mock_http, sandbox, BASE_URL, methods=("POST",))
        point_accounts_at(monkeypatch, lambda name: api_url(BASE_URL, name), names=sandbox.accounts)
        started.append(mock_http)
        return sandbox, mock_http

    started: list = []
    yield start
    for mock_http in started:
        mock_http.stop()
        mock_http.reset()


def sent_bodies(mock_http, action: str) -> list[dict]:
    return [
        json.loads(call.request.body)
        for call in mock_http.calls
        if call.request.url.endswith(action)
    ]


class SeenSpy:
    """Record which offer ids each page write received (wrapping the real writer)."""

    def __init__(self):
        self.seen: set[int] = set()

    def __call__(self, **kwargs):
        result = real_page_write(**kwargs)
        self.seen.update(result.emag_ids)
        return result


real_page_write = engine.offer_page_write


# --- full -----------------------------------------------------------------------------------


def test_full_marks_offers_missing_only_after_a_complete_pass_and_restores_them(in_process_sandbox):
    sandbox, _ = in_process_sandbox(offers={"main": 230, "fbe": 5})
    offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    vanished = sandbox.offers("main")[10]
    sandbox.remove_offer("main", vanished["id"])

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.items_missing == 1
    assert Offer.objects.get(account="main", emag_id=vanished["id"]).missing_since is not None
    assert Offer.objects.filter(account="main", missing_since__isnull=True).count() == 229

    sandbox.reset("main")  # the offer is back
    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    assert Offer.objects.get(account="main", emag_id=vanished["id"]).missing_since is None
    assert run.items_missing == 0


def test_full_reads_inactive_and_end_of_life_offers_too(in_process_sandbox):
    sandbox, _ = in_process_sandbox(offers={"main": 300, "fbe": 5})
    offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    statuses = {offer["status"] for offer in sandbox.offers("main")}
    assert statuses == {0, 1, 2}
    assert set(Offer.objects.values_list("status", flat=True)) == {0, 1, 2}


def test_an_offer_with_an_unreadable_field_is_stored_and_the_run_completes_with_a_warning(
    in_process_sandbox,
):
    sandbox, _ = in_process_sandbox(offers={"main": 30, "fbe": 5})
    odd = sandbox.offers("main")[7]
    sandbox.update_offer("main", odd["id"], {"general_stock": "în stoc", "name": {"ro": "x"}})

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    stored = Offer.objects.get(account="main", emag_id=odd["id"])
    assert run.status == "completed" and run.items_failed == 0
    assert Offer.objects.filter(account="main").count() == 30
    assert (run.items_warned, [warning["offer"] for warning in run.warnings]) == (1, [odd["id"]])
    assert stored.general_stock is None and stored.name == ""
    assert stored.part_number == odd["part_number"] and len(stored.read_warnings) == 2


def test_a_partial_full_pass_marks_nothing_missing(in_process_sandbox):
    sandbox, _ = in_process_sandbox(offers={"main": 350, "fbe": 5})
    offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    sandbox.remove_offer("main", sandbox.offers("main")[0]["id"])
    sandbox.inject_fault("main", "http_503", count=None, action="product_offer/read")

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.status == "partial"
    assert run.items_missing == 0
    assert not Offer.objects.filter(missing_since__isnull=False).exists()


def test_persistent_5xx_ends_partial_with_its_checkpoint_and_the_error_listed(in_process_sandbox):
    sandbox, _ = in_process_sandbox(offers={"main": 450, "fbe": 5})

    def fail_after_two_pages(**kwargs):
        result = real_page_write(**kwargs)
        if kwargs["page"] == 2:
            sandbox.inject_fault("main", "http_502", count=None, action="product_offer/read")
        return result

    with mock.patch.object(engine, "offer_page_write", side_effect=fail_after_two_pages):
        run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    state = SyncState.objects.get(account="main", stream=SyncKind.OFFERS, mode="full")
    assert run.status == "partial"
    assert run.pages_done >= 2
    assert state.next_page == run.pages_done + 1
    assert any("502" in error["message"] for error in run.errors)
    assert run.retries > 0


def test_a_run_after_a_partial_one_resumes_one_page_before_the_checkpoint(in_process_sandbox):
    sandbox, mock_http = in_process_sandbox(offers={"main": 650, "fbe": 5})
    sandbox.inject_fault("main", "http_500", count=None, action="product_offer/read")
    failed = offer_sync(account="main", options=OfferSyncOptions(mode="full"))  # stops at page 1
    sandbox.clear_faults()
    # As if the failed run had committed three pages before it stopped.
    SyncState.objects.create(
        account="main", stream=SyncKind.OFFERS, mode="full", next_page=4, run=failed
    )

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.resumed_from_page == 3
    pages = [body["currentPage"] for body in sent_bodies(mock_http, "product_offer/read")][-5:]
    assert sorted(pages) == [3, 4, 5, 6, 7]
    assert run.status == "completed"
    assert run.items_missing == 0  # a stitched pass marks nothing
    assert SyncState.objects.get(account="main", mode="full").next_page == 1


def test_pages_commit_without_waiting_for_the_disk_during_a_run_and_only_then(
    in_process_sandbox, postgres_required
):
    in_process_sandbox(offers={"main": 250, "fbe": 5})

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    during_pages = []

    def page_write_noting_the_setting(**kwargs):
        during_pages.append(synchronous_commit())
        return real_page_write(**kwargs)

    with mock.patch.object(engine, "offer_page_write", side_effect=page_write_noting_the_setting):
        run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.status == "completed"
    assert during_pages == ["off", "off", "off"]
    # The connection outlives the run (a worker's, a CLI's): its next commits wait again.
    assert synchronous_commit() == "on"


# --- incremental ----------------------------------------------------------------------------


def test_incremental_reads_active_offers_only(in_process_sandbox):
    _, mock_http = in_process_sandbox(offers={"main": 200, "fbe": 5})
    offer_sync(account="main", options=OfferSyncOptions(mode="incremental"))
    assert all(body.get("status") == 1 for body in sent_bodies(mock_http, "product_offer/read"))
    assert set(Offer.objects.values_list("status", flat=True)) == {1}


def test_incremental_rotation_sees_every_offer_active_throughout_despite_drift(in_process_sandbox):
    sandbox, _ = in_process_sandbox(offers={"main": 1400, "fbe": 5}, seed=7)
    max_pages = 3
    active_pages = math.ceil(sum(o["status"] == 1 for o in sandbox.offers("main")) / 100)
    runs_allowed = math.ceil(active_pages / max_pages) + 1
    active_throughout = {o["id"] for o in sandbox.offers("main") if o["status"] == 1}
    spy = SeenSpy()

    with mock.patch.object(engine, "offer_page_write", side_effect=spy):
        for round_number in range(runs_allowed):
            run = offer_sync(
                account="main", options=OfferSyncOptions(mode="incremental", max_pages=max_pages)
            )
            assert run.status == "completed"
            sandbox.drift("main", changes=30, seed=round_number)
            active_throughout &= {o["id"] for o in sandbox.offers("main") if o["status"] == 1}

    assert active_throughout - spy.seen == set()


def test_incremental_continues_where_the_previous_run_stopped_and_wraps(in_process_sandbox):
    _, mock_http = in_process_sandbox(offers={"main": 500, "fbe": 5})
    pages_per_run = []
    for _ in range(4):
        before = len(sent_bodies(mock_http, "product_offer/read"))
        offer_sync(account="main", options=OfferSyncOptions(mode="incremental", max_pages=2))
        bodies = sent_bodies(mock_http, "product_offer/read")[before:]
        # Pages are fetched concurrently, so they may arrive in any order.
        pages_per_run.append(sorted(body["currentPage"] for body in bodies))

    assert pages_per_run[0] == [1, 2]
    assert pages_per_run[1] == [2, 3, 4]  # the page before the checkpoint is read again
    assert 1 in pages_per_run[2] + pages_per_run[3]  # wrapped around


# --- selective ------------------------------------------------------------------------------


def test_selective_sends_its_filters_to_emag(in_process_sandbox):
    sandbox, mock_http = in_process_sandbox(offers={"main": 300, "fbe": 5})
    target = sandbox.offers("main")[5]

    run = offer_sync(
        account="main",
        options=OfferSyncOptions(
            mode="selective",
            filters={"status": "1", "general_stock": "50"},
            emag_ids=[target["id"]],
            skus=[sandbox.offers("main")[6]["part_number"]],
        ),
    )

    reads = sent_bodies(mock_http, "product_offer/read")
    assert {"id": target["id"], "currentPage": 1, "itemsPerPage": 100} in reads
    assert any(
        body.get("part_number") == sandbox.offers("main")[6]["part_number"] for body in reads
    )
    assert any(body.get("status") == 1 and body.get("general_stock") == 50 for body in reads)
    expected = {
        o["id"]
        for o in sandbox.offers("main")
        if o["status"] == 1 and 0 <= o["general_stock"] <= 50
    } | {target["id"], sandbox.offers("main")[6]["id"]}
    assert set(Offer.objects.values_list("emag_id", flat=True)) == expected
    assert run.items_missing == 0


def test_selective_never_marks_offers_missing(in_process_sandbox):
    sandbox, _ = in_process_sandbox(offers={"main": 150, "fbe": 5})
    offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    run = offer_sync(
        account="main", options=OfferSyncOptions(mode="selective", filters={"status": 0})
    )
    assert run.items_missing == 0
    assert not Offer.objects.filter(missing_since__isnull=False).exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (OfferSyncOptions(mode="selective"), "needs filters"),
        (OfferSyncOptions(mode="selective", filters={"colour": "red"}), "unknown filter"),
        (OfferSyncOptions(mode="selective", filters={"status": "active"}), "whole number"),
        (OfferSyncOptions(mode="full", filters={"status": 1}), "selective syncs only"),
        (OfferSyncOptions(mode="incremental", max_pages=0), "max_pages"),
        (OfferSyncOptions(mode="full", max_pages=2), "incremental syncs only"),
        (OfferSyncOptions(mode="selective", skus=["A"], max_pages=2), "incremental syncs only"),
        (OfferSyncOptions(mode="sideways"), "unknown mode"),
        (OfferSyncOptions(conflict_strategy="coin_flip"), "conflict strategy"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(options, message):
    with pytest.raises(SyncOptionsError, match=message):
        offer_sync(account="main", options=options)
    assert not SyncRun.objects.exists()


# --- claims, cancel -------------------------------------------------------------------------


def test_a_second_trigger_is_told_already_running_and_leaves_nothing_behind(in_process_sandbox):
    in_process_sandbox(offers={"main": 10, "fbe": 5})
    holder = sync_run_claim(account="main", kind=SyncKind.OFFERS)
    with pytest.raises(SyncAlreadyRunning) as busy:
        offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    assert busy.value.run == holder
    assert SyncRun.objects.count() == 1


def test_cancel_stops_between_pages_and_keeps_the_checkpoint(in_process_sandbox):
    in_process_sandbox(offers={"main": 600, "fbe": 5})

    def cancel_after_page_2(**kwargs):
        result = real_page_write(**kwargs)
        if kwargs["page"] == 2:
            sync_run_cancel(run_id=kwargs["run"].pk)
        return result

    with mock.patch.object(engine, "offer_page_write", side_effect=cancel_after_page_2):
        run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.status == "cancelled"
    assert run.pages_done == 2
    assert SyncState.objects.get(account="main", mode="full").next_page == 3
    assert run.items_missing == 0


def test_bad_credentials_fail_the_run_with_a_clear_error(in_process_sandbox, monkeypatch):
    in_process_sandbox(offers={"main": 10, "fbe": 5})
    monkeypatch.setenv("EMAG_MAIN_PASSWORD", "wrong-password")
    from emag_sync.accounts import get_accounts

    get_accounts.cache_clear()
    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    assert run.status == "failed"
    assert "not allowed" in run.errors[0]["message"].lower()
    assert "wrong-password" not in json.dumps(run.errors)
