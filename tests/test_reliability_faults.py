"""eMAG misbehaving: every fault gets bounded retries, an honest status and a clear error, and
once it clears the next run leaves the mirror equal to eMAG with the local overlay intact."""

import pytest

from emag_sync.models import LocalEdit, Offer
from emag_sync.services.local_edits import local_edit_set
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# (fault, status of the run while it lasts, words the run's error must contain)
FAULTS = [
    ("rate_limit", "partial", "429"),
    ("http_500", "partial", "500"),
    ("http_502", "partial", "502"),
    ("http_503", "partial", "503"),
    ("timeout", "partial", "timed out"),
    ("connection_reset", "partial", "connect"),
    ("malformed_json", "partial", "json"),
    ("truncated_json", "partial", "json"),
    ("is_error", "partial", "error"),
    ("auth", "failed", "not allowed"),
    ("ip_whitelist", "failed", "invalid vendor ip"),
]


def mirror_matches(sandbox, account="main"):
    """Return whether the offers not marked missing are exactly eMAG's, each once."""
    present = Offer.objects.filter(account=account, missing_since__isnull=True)
    stored = dict(present.values_list("emag_id", "raw"))
    return stored == {offer["id"]: offer for offer in sandbox.offers(account)}


@pytest.mark.parametrize("fault, status, words", FAULTS, ids=[fault for fault, *_ in FAULTS])
def test_a_fault_ends_the_run_honestly_and_the_next_clean_run_repairs_everything(
    fault, status, words, live_sandbox, settings
):
    settings.EMAG_TIMEOUT = 1.0
    sandbox, _ = live_sandbox(offers={"main": 320, "fbe": 5})
    offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    edited = Offer.objects.filter(account="main").order_by("emag_id")[7]
    local_edit_set(offer=edited, field="name", value="Numele meu local")
    sandbox.drift("main", changes=25, seed=3)
    sandbox.reset_stats()
    sandbox.inject_fault("main", fault, count=None, action="product_offer/read", slow_seconds=1.5)

    broken = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert broken.status == status
    assert words in " ".join(error["message"] for error in broken.errors).lower()
    attempts = sandbox.stats()["main"]["actions"]["product_offer/read"]["requests"]
    concurrency = settings.EMAG_PAGE_CONCURRENCY
    # Bounded, not a storm: the pages in flight when eMAG looked down, each with its retries,
    # once in the pass and once more at their second chance.
    assert attempts <= 2 * concurrency * (settings.EMAG_MAX_RETRIES + 1)
    assert broken.items_missing == 0

    sandbox.clear_faults()
    repaired = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert repaired.status == "completed"
    assert mirror_matches(sandbox)
    assert Offer.objects.filter(account="main", missing_since__isnull=True).count() == len(
        sandbox.offers("main")
    )
    assert LocalEdit.objects.get(offer=edited).value == "Numele meu local"


def test_a_short_burst_of_faults_is_absorbed_by_retries(live_sandbox):
    sandbox, _ = live_sandbox(offers={"main": 320, "fbe": 5})
    sandbox.inject_fault("main", "http_502", count=2, action="product_offer/read")
    sandbox.inject_fault("main", "rate_limit", count=2, action="product_offer/read")

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    assert run.status == "completed"
    assert run.retries >= 4
    assert run.throttled >= 2
    assert mirror_matches(sandbox)


def test_unexpected_but_readable_types_are_stored_and_unreadable_ones_left_empty(live_sandbox):
    sandbox, _ = live_sandbox(offers={"main": 60, "fbe": 5})
    first, second, third = (offer["id"] for offer in sandbox.offers("main")[:3])
    sandbox.update_offer(
        "main",
        first,
        {"general_stock": "12", "sale_price": 19.99, "brand_name": None, "novelty": [1]},
    )
    sandbox.update_offer("main", second, {"sale_price": None, "ean": None, "images": None})
    sandbox.update_offer("main", third, {"sale_price": "nineteen lei"})

    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    # The unreadable price is left empty: the offer is stored, and the run says why.
    assert run.status == "completed" and run.items_failed == 0
    assert run.items_warned == 1
    assert run.warnings[0]["offer"] == third and "sale_price" in run.warnings[0]["message"]
    assert Offer.objects.get(emag_id=first).general_stock == 12
    assert str(Offer.objects.get(emag_id=first).sale_price) == "19.9900"
    assert Offer.objects.get(emag_id=second).sale_price is None
    stored = Offer.objects.get(emag_id=third)
    assert stored.sale_price is None and stored.raw["sale_price"] == "nineteen lei"
    assert Offer.objects.count() == 60
