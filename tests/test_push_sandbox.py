"""Pushing local values to the eMAG sandbox over real HTTP: the issue's acceptance lines 1-3."""

import json
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from emag_sync.models import Conflict, LocalEdit, Offer, OfferPush, PushState, SyncRun
from emag_sync.services.local_edits import LocalEditError, local_edit_set
from emag_sync.services.offer_push import offers_push
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from tests.test_offer_sync_processes import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def full_sync(account="main"):
    run = offer_sync(account=account, options=OfferSyncOptions(mode="full"))
    assert run.status == "completed", run.errors
    return run


def run_command(capsys, *args):
    """Run `emag_sync` and return its exit code and JSON output."""
    try:
        call_command("emag_sync", *args)
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    return code, json.loads(capsys.readouterr().out)


def save_requests(sandbox, account="main"):
    actions = sandbox.stats()[account]["actions"]
    return actions.get("offer/save", {}).get("requests", 0)


def in_range(offer):
    """A new sale price inside the offer's range and below its recommended price."""
    return (offer.min_sale_price + Decimal("1.25")).quantize(Decimal("0.01"))


def priced_offers(count, *, skip=()):
    offers = Offer.objects.filter(
        account="main", min_sale_price__isnull=False, max_sale_price__isnull=False
    ).exclude(emag_id__in=list(skip))
    return list(offers.order_by("emag_id")[:count])


def sandbox_offer(sandbox, emag_id, account="main"):
    return next(item for item in sandbox.offers(account) if item["id"] == emag_id)


def test_140_edits_go_in_3_requests_land_on_emag_and_a_sync_confirms_them(live_sandbox, capsys):
    sandbox, _ = live_sandbox(
        offers={"main": 250, "fbe": 20}, rate_limit=True, client_rate_limit=True
    )
    full_sync("main")
    full_sync("fbe")
    priced = priced_offers(120)
    stocked = list(
        Offer.objects.filter(account="main")
        .exclude(emag_id__in=[offer.emag_id for offer in priced])
        .order_by("emag_id")[:20]
    )
    prices = {offer.emag_id: in_range(offer) for offer in priced}
    stocks = {offer.emag_id: (offer.general_stock or 0) + 7 for offer in stocked}
    for offer in priced:
        local_edit_set(offer=offer, field="sale_price", value=str(prices[offer.emag_id]))
    for offer in stocked:
        local_edit_set(offer=offer, field="general_stock", value=stocks[offer.emag_id])
    refused = 0
    for offer in Offer.objects.filter(account="fbe").order_by("emag_id")[:10]:
        with pytest.raises(LocalEditError, match="fulfilled by eMAG"):
            local_edit_set(offer=offer, field="general_stock", value=3)
        refused += 1
    assert refused == 10 and OfferPush.objects.filter(account="fbe").count() == 0
    sandbox.reset_stats()

    code, report = run_command(capsys, "push", "--account", "main", "--json")

    [run] = report["runs"]
    assert code == 0 and run["status"] == "completed"
    assert save_requests(sandbox) == 3  # ceil(140 / 50)
    assert (run["sent"], run["applied"], run["rejected"], run["uncertain"]) == (140, 140, 0, 0)
    assert run["requests"] == 3 and run["throttled"] == 0
    assert sandbox.stats()["main"]["total"]["rate_limited"] == 0
    for emag_id, price in prices.items():
        assert Decimal(str(sandbox_offer(sandbox, emag_id)["sale_price"])) == price
    for emag_id, stock in stocks.items():
        assert sandbox_offer(sandbox, emag_id)["general_stock"] == stock
    assert set(sandbox.offer_saves("main").values()) == {1}
    assert OfferPush.objects.filter(state=PushState.APPLIED).count() == 140

    code, again = run_command(capsys, "push", "--account", "main", "--json")
    assert code == 0 and again["runs"][0]["sent"] == 0
    assert save_requests(sandbox) == 3

    full_sync("main")
    assert not Conflict.objects.exists()
    assert not LocalEdit.objects.exists()
    assert OfferPush.objects.filter(state=PushState.CONFIRMED).count() == 140
    for offer in Offer.objects.filter(emag_id__in=list(prices)):
        assert offer.sale_price == prices[offer.emag_id]
    for offer in Offer.objects.filter(emag_id__in=list(stocks)):
        assert offer.general_stock == stocks[offer.emag_id]


def test_a_dry_run_prints_the_requests_and_sends_nothing(live_sandbox, capsys):
    sandbox, _ = live_sandbox(offers={"main": 60, "fbe": 5})
    full_sync("main")
    [offer] = priced_offers(1)
    local_edit_set(offer=offer, field="sale_price", value=str(in_range(offer)))
    sandbox.reset_stats()

    code, report = run_command(capsys, "push", "--account", "main", "--json", "--dry-run")

    [request] = report["requests"]["main"]
    assert code == 0 and request["method"] == "POST"
    assert request["url"].endswith("/main/api-3/offer/save")
    assert request["body"] == [{"id": offer.emag_id, "sale_price": f"{in_range(offer):.4f}"}]
    assert save_requests(sandbox) == 0
    assert not SyncRun.objects.filter(kind="push").exists()
    assert OfferPush.objects.get().state == PushState.PENDING


def test_items_emag_refuses_end_rejected_with_its_message_and_the_rest_apply(live_sandbox):
    sandbox, _ = live_sandbox(offers={"main": 60, "fbe": 5})
    full_sync("main")
    narrowed, locked, fine = priced_offers(3)
    for offer in (narrowed, fine):
        local_edit_set(offer=offer, field="sale_price", value=str(in_range(offer)))
    local_edit_set(offer=locked, field="general_stock", value=(locked.general_stock or 0) + 1)
    # eMAG's side changes after the edits were checked: a range above the price, a campaign.
    sandbox.update_offer(
        "main",
        narrowed.emag_id,
        {"min_sale_price": "99999.0000", "max_sale_price": "199999.0000"},
    )
    sandbox.set_campaign("main", locked.emag_id, "BF")

    run = offers_push(account="main")

    assert (run.items_sent, run.items_applied, run.items_rejected) == (3, 1, 2)
    assert run.status == "completed"
    states = dict(OfferPush.objects.values_list("offer__emag_id", "state"))
    assert states == {
        narrowed.emag_id: "rejected",
        locked.emag_id: "rejected",
        fine.emag_id: "applied",
    }
    narrowed_push = OfferPush.objects.get(offer=narrowed)
    assert "must be between the min_sale_price" in narrowed_push.messages[0]
    assert "active campaign BF" in OfferPush.objects.get(offer=locked).messages[0]
    assert LocalEdit.objects.filter(offer=narrowed).exists()  # the local value stays
    assert offers_push(account="main").items_sent == 0  # not sent again until edited


def test_a_timeout_after_emag_applied_a_batch_is_read_back_not_sent_again(live_sandbox, settings):
    sandbox, _ = live_sandbox(offers={"main": 60, "fbe": 5})
    full_sync("main")
    offers = priced_offers(5)
    for offer in offers:
        local_edit_set(offer=offer, field="sale_price", value=str(in_range(offer)))
    settings.EMAG_TIMEOUT = 1
    sandbox.inject_fault("main", "timeout", action="offer/save", slow_seconds=2)

    run = offers_push(account="main")

    assert run.status == "completed"
    assert (run.items_sent, run.items_uncertain, run.items_applied) == (5, 5, 5)
    assert set(OfferPush.objects.values_list("state", flat=True)) == {"applied"}
    assert sandbox.offer_saves("main") == {offer.emag_id: 1 for offer in offers}
    assert sandbox.stats()["main"]["actions"]["offer/save"]["requests"] == 1


def test_a_timeout_before_emag_applied_a_batch_is_read_back_and_sent_again(live_sandbox, settings):
    sandbox, _ = live_sandbox(offers={"main": 60, "fbe": 5})
    full_sync("main")
    offers = priced_offers(4)
    for offer in offers:
        local_edit_set(offer=offer, field="status", value=0 if offer.status else 1)
    settings.EMAG_TIMEOUT = 1
    sandbox.inject_fault("main", "timeout_unapplied", action="offer/save", slow_seconds=2)

    run = offers_push(account="main")

    assert (run.items_sent, run.items_uncertain, run.items_applied) == (8, 4, 4)
    assert sandbox.offer_saves("main") == {offer.emag_id: 1 for offer in offers}
    assert set(OfferPush.objects.values_list("state", flat=True)) == {"applied"}


def test_a_push_killed_mid_batch_loses_nothing_and_the_next_saves_nothing_twice(
    live_sandbox, subprocess_env, settings
):
    settings.SYNC_REAP_AFTER = 2
    sandbox, _ = live_sandbox(offers={"main": 150, "fbe": 5})
    full_sync("main")
    offers = priced_offers(70)
    for offer in offers:
        local_edit_set(offer=offer, field="sale_price", value=str(in_range(offer)))
    # The first batch is applied at once and answered 30 s later: the process dies meanwhile.
    sandbox.inject_fault("main", "timeout", action="offer/save", slow_seconds=30)
    victim = subprocess.Popen(
        [sys.executable, "manage.py", "emag_sync", "push", "--account", "main", "--json"],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for(lambda: sum(sandbox.offer_saves("main").values()) == 50, timeout=30)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=10)
    assert OfferPush.objects.filter(state=PushState.SENDING).count() == 50
    sandbox.clear_faults()
    wait_for(lambda: _reaped(), timeout=30)

    run = offers_push(account="main")

    assert run.status == "completed", run.errors
    assert sandbox.offer_saves("main") == {offer.emag_id: 1 for offer in offers}
    assert set(OfferPush.objects.values_list("state", flat=True)) == {"applied"}
    for offer in offers:
        assert Decimal(str(sandbox_offer(sandbox, offer.emag_id)["sale_price"])) == in_range(offer)


def _reaped():
    from emag_sync.services.sync_runs import sync_run_reap

    sync_run_reap(account="main", kind="push")
    return not SyncRun.objects.filter(kind="push", status="running").exists()


def test_a_push_and_a_full_sync_of_one_account_at_once_stay_within_the_rate_limit(
    live_sandbox,
):
    import threading

    from django.db import connections

    sandbox, _ = live_sandbox(
        offers={"main": 400, "fbe": 5}, rate_limit=True, client_rate_limit=True
    )
    full_sync("main")
    priced = priced_offers(100)
    prices = {offer.emag_id: in_range(offer) for offer in priced}
    for offer in priced:
        local_edit_set(offer=offer, field="sale_price", value=str(prices[offer.emag_id]))
    sandbox.reset_stats()
    results = {}

    def in_thread(name, work):
        try:
            results[name] = work()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=in_thread, args=("sync", lambda: full_sync("main"))),
        threading.Thread(target=in_thread, args=("push", lambda: offers_push(account="main"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert results["push"].status == "completed" and results["push"].items_applied == 100
    assert sandbox.stats()["main"]["total"]["rate_limited"] == 0
    assert results["push"].throttled == 0 and results["sync"].throttled == 0
    full_sync("main")  # whatever the sync read mid-push, the next one sees eMAG as pushed
    assert not Conflict.objects.exists()
    for offer in Offer.objects.filter(emag_id__in=list(prices)):
        assert offer.sale_price == prices[offer.emag_id]
        assert (
            Decimal(str(sandbox_offer(sandbox, offer.emag_id)["sale_price"]))
            == prices[offer.emag_id]
        )
    assert not LocalEdit.objects.exists()


@pytest.mark.parametrize(
    ("strategy", "reaches_emag"),
    [
        ("emag_priority", "emag"),  # the local edit lost to eMAG's change: nothing is pushed
        ("local_priority", "local"),  # the local edit wins and is pushed over eMAG's
        ("newest_wins", "emag"),  # eMAG's change was fetched after the edit: eMAG's is newer
        ("manual", "emag"),  # held until the conflict is resolved...
    ],
)
def test_each_conflict_strategy_decides_what_a_push_sends(live_sandbox, strategy, reaches_emag):
    sandbox, _ = live_sandbox(offers={"main": 30, "fbe": 5})
    full_sync("main")
    [offer] = priced_offers(1)
    local = in_range(offer)
    local_edit_set(offer=offer, field="sale_price", value=str(local))
    theirs = (offer.min_sale_price + Decimal("2.50")).quantize(Decimal("0.01"))
    sandbox.update_offer("main", offer.emag_id, {"sale_price": f"{theirs:.4f}"})
    run = offer_sync(
        account="main", options=OfferSyncOptions(mode="full", conflict_strategy=strategy)
    )
    assert run.status == "completed"

    offers_push(account="main")

    expected = local if reaches_emag == "local" else theirs
    assert Decimal(str(sandbox_offer(sandbox, offer.emag_id)["sale_price"])) == expected
    if strategy == "manual":
        from emag_sync.services.conflicts import conflict_resolve

        conflict = Conflict.objects.get(status="open")
        conflict_resolve(conflicts=[conflict], resolution="keep_local")
        offers_push(account="main")  # ...then "keep local" sends it
        assert Decimal(str(sandbox_offer(sandbox, offer.emag_id)["sale_price"])) == local
