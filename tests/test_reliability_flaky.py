"""A flaky eMAG: a sync completes in one run, an eMAG that is down ends runs `partial` within
a bound in time, and a permanent refusal fails the run at once with no retry sent."""

import time

import pytest

from emag_sync.models import EmagRequestLog, Offer, Order, SyncState
from emag_sync.sandbox.faults import TRANSIENT_KINDS
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.order_sync import order_sync
from tests.orders_support import ALL_HISTORY_DAYS, orders_by_id

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def mirror_matches(sandbox, account):
    present = Offer.objects.filter(account=account, missing_since__isnull=True)
    stored = dict(present.values_list("emag_id", "raw"))
    return stored == {offer["id"]: offer for offer in sandbox.offers(account)}


def test_with_15_percent_of_calls_failing_a_full_sync_of_both_accounts_completes_in_one_run(
    live_sandbox, settings
):
    settings.EMAG_TIMEOUT = 1.0
    settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
    sandbox, _ = live_sandbox(
        offers={"main": 3000, "fbe": 1500}, orders={"main": 500, "fbe": 300}, seed=19
    )
    sandbox.set_random_faults(0.15, seed=20, slow_seconds=1.2)

    runs = [
        offer_sync(account=name, options=OfferSyncOptions(mode="full")) for name in ("main", "fbe")
    ]
    runs += [order_sync(account=name, mode="full") for name in ("main", "fbe")]

    assert [run.status for run in runs] == ["completed"] * 4
    assert all(mirror_matches(sandbox, name) for name in ("main", "fbe"))
    assert Offer.objects.filter(account="main").count() == 3000
    for name in ("main", "fbe"):
        stored = dict(Order.objects.filter(account=name).values_list("emag_id", "raw"))
        assert stored == orders_by_id(sandbox, name)
    served = sandbox.faults_served()
    # Every transient kind was served, and each was overcome by a retry.
    assert set(served) == {str(kind) for kind in TRANSIENT_KINDS}
    retries = sum(run.retries for run in runs)
    assert retries >= sum(served.values()) * 0.9
    retried_calls = EmagRequestLog.objects.filter(attempts__gt=1, ok=True)
    assert retried_calls.count() >= 0.5 * sum(served.values()) / 1.2


def test_an_emag_that_goes_down_ends_the_run_partial_within_the_bound_and_the_next_run_resumes(
    live_sandbox, settings
):
    # Retries bounded by time, not count: a down eMAG must not keep a run for long.
    settings.EMAG_MAX_RETRIES = 1000
    settings.EMAG_RETRY_MAX_WAIT = 0.05
    settings.EMAG_RETRY_DEADLINE = 1.0
    settings.EMAG_SECOND_CHANCE_PAUSE = 0.3
    settings.EMAG_TIMEOUT = 1.0
    sandbox, _ = live_sandbox(offers={"main": 1500, "fbe": 5})

    def go_down_after_page_4(run):
        if run.pages_done == 4 and not sandbox.faults():
            sandbox.inject_fault(None, "http_502", count=None)

    started = time.monotonic()
    broken = offer_sync(
        account="main", options=OfferSyncOptions(mode="full"), on_progress=go_down_after_page_4
    )
    took = time.monotonic() - started

    # The bound: two waves of pages (the pass, then the second chance), each within
    # EMAG_RETRY_DEADLINE plus one attempt, and the pause between them.
    bound = 2 * (settings.EMAG_RETRY_DEADLINE + settings.EMAG_TIMEOUT) + 0.3
    assert broken.status == "partial"
    assert took < bound + 3.0  # the pages written and the sandbox's own time
    failed_pages = [error["page"] for error in broken.errors if "second chance" in error["message"]]
    assert failed_pages == sorted(failed_pages) and len(failed_pages) >= 2
    assert all(
        "502" in error["message"] for error in broken.errors if error["page"] in failed_pages
    )
    assert any("looks down" in error["message"] for error in broken.errors)
    assert broken.pages_second_chance >= len(failed_pages)
    assert broken.items_missing == 0
    state = SyncState.objects.get(account="main", stream="offers", mode="full")
    # Pages 1-4 were stored before eMAG went down, and the checkpoint stays before the
    # first page that is still missing.
    assert state.next_page == min(failed_pages) >= 5

    sandbox.clear_faults()
    repaired = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert repaired.status == "completed"
    assert repaired.resumed_from_page == state.next_page - 1
    assert Offer.objects.filter(account="main").count() == 1500
    assert mirror_matches(sandbox, "main")


def test_a_page_that_fails_after_its_retries_is_read_again_before_the_run_ends(
    live_sandbox, settings
):
    settings.EMAG_PAGE_CONCURRENCY = 1  # so the faults all hit one page
    sandbox, _ = live_sandbox(offers={"main": 800, "fbe": 5})
    # 4 failures in a row exhaust one page's 1 + 3 attempts; the second chance reads it.
    sandbox.inject_fault("main", "html_200", count=4, action="product_offer/read")

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.status == "completed"
    assert run.pages_second_chance == 1
    assert mirror_matches(sandbox, "main")
    state = SyncState.objects.get(account="main", stream="offers", mode="full")
    assert state.next_page == 1 and state.last_complete_pass_at is not None


def test_an_order_page_that_fails_after_its_retries_is_read_again_before_the_run_ends(
    live_sandbox, settings
):
    settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
    settings.EMAG_PAGE_CONCURRENCY = 1  # so the faults all hit one page
    sandbox, _ = live_sandbox(offers={"main": 60, "fbe": 5}, orders={"main": 400, "fbe": 0})
    sandbox.inject_fault("main", "truncated_json", count=4, action="order/read")

    run = order_sync(account="main", mode="full")

    assert run.status == "completed"
    assert run.pages_second_chance == 1
    assert dict(Order.objects.filter(account="main").values_list("emag_id", "raw")) == (
        orders_by_id(sandbox, "main")
    )


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("auth", "credentials of account 'main' refused"),
        ("ip_whitelist", "not whitelisted"),
        ("invalid_request", "invalid request"),
    ],
)
@pytest.mark.parametrize("stream", ["offers", "orders"])
def test_a_permanent_refusal_fails_the_run_at_once_with_its_reason_and_no_retry(
    live_sandbox, settings, kind, words, stream
):
    settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
    sandbox, _ = live_sandbox(offers={"main": 900, "fbe": 5}, orders={"main": 300, "fbe": 0})
    action = "product_offer/read" if stream == "offers" else "order/read"
    sandbox.inject_fault("main", kind, count=None, action=action)

    if stream == "offers":
        run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    else:
        run = order_sync(account="main", mode="full")

    assert run.status == "failed"
    assert words in " ".join(error["message"] for error in run.errors)
    assert run.retries == 0 and run.pages_second_chance == 0
    reads = sandbox.stats()["main"]["actions"][action]["requests"]
    # Only the pages already in flight were sent, each once.
    assert reads <= settings.EMAG_PAGE_CONCURRENCY
