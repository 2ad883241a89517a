"""Searches ignore case and diacritics: `cafetiera` finds `Cafetieră`, `şurub` finds `șurub`.

Offer searches (selector, admin, both APIs), the order customer search and the conflict
search, on whichever database the suite runs (SQLite by default, PostgreSQL with DATABASE_URL).
"""

import pytest
from django.urls import reverse

from emag_sync.folding import DIACRITIC_LETTERS, fold
from emag_sync.models import Conflict, Offer, Order
from emag_sync.selectors import conflict_search, offer_search, order_search
from tests.admin_support import make_orders
from tests.api.conftest import API, client_for
from tests.factories import make_conflict, make_offer

pytestmark = pytest.mark.django_db

SPELLINGS_OF_CAFETIERA = ["cafetiera", "CAFETIERĂ", "cafetieră", "Cafetieră", "CAFETIERA"]


@pytest.fixture
def offers():
    """Two coffee makers, a comma-below screw, a cedilla bolt and an unrelated offer."""
    return {
        "coffee": make_offer(emag_id=1, name="Cafetieră Heinner, 10 căni"),
        "coffee_upper": make_offer(emag_id=2, name="CAFETIERĂ DE VOIAJ"),
        "screw": make_offer(emag_id=3, name="Șurub autofiletant 4x40"),
        "bolt": make_offer(emag_id=4, name="Şurub cu piuliţă M8"),  # cedilla ş and ţ
        "washer": make_offer(emag_id=5, name="Mașină de spălat rufe"),
    }


def found(term: str) -> list[int]:
    return sorted(
        offer_search(offers=Offer.objects.all(), term=term).values_list("emag_id", flat=True)
    )


def test_every_spelling_of_cafetiera_finds_the_same_offers(offers):
    for spelling in SPELLINGS_OF_CAFETIERA:
        assert found(spelling) == [1, 2], spelling


def test_comma_below_and_cedilla_forms_find_each_other(offers):
    assert found("şurub") == [3, 4]  # cedilla term, comma-below and cedilla names
    assert found("șurub") == [3, 4]
    assert found("surub") == [3, 4]
    assert found("piuliță") == [4]  # comma-below term, cedilla name
    assert found("masina de spalat") == [5]
    assert found("MAȘINĂ spălat") == [5]


def test_a_word_with_other_letters_still_finds_nothing(offers):
    assert found("cafetierx") == []
    assert found("surub masina") == []


def test_the_stored_column_holds_the_name_folded_as_python_folds_it(offers):
    stored = dict(Offer.objects.values_list("emag_id", "name_search"))

    assert stored[1] == "CAFETIERA HEINNER, 10 CANI"
    assert stored[4] == fold("Şurub cu piuliţă M8") == "SURUB CU PIULITA M8"


def test_hungarian_letters_fold_too(db):
    make_offer(emag_id=7, name="Kávéfőző gép")

    assert found("kavefozo") == [7]
    assert found("KÁVÉFŐZŐ") == [7]


def test_the_database_folds_every_listed_letter_to_its_plain_letter(db):
    letters = "".join(DIACRITIC_LETTERS)
    offer = make_offer(emag_id=9, name=letters)

    stored = Offer.objects.values_list("name_search", flat=True).get(pk=offer.pk)

    assert stored == "".join(DIACRITIC_LETTERS.values()) == fold(letters)
    assert set(stored) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_the_admin_offer_search_ignores_diacritics(admin_client, offers):
    changelist = reverse("admin:emag_sync_offer_changelist")
    for spelling in ("cafetiera", "CAFETIERĂ", "cafetieră"):
        response = admin_client.get(changelist, {"q": spelling})
        assert sorted(o.emag_id for o in response.context["cl"].result_list) == [1, 2]


def test_both_apis_search_offers_ignoring_diacritics(admin_user, offers):
    api = client_for(admin_user)
    for spelling in ("cafetiera", "CAFETIERĂ", "cafetieră"):
        v2 = api.get(f"{API}/emag/products/products", {"search": spelling}).json()
        v1 = api.get("/api/v1/emag/products/products", {"search": spelling}).json()
        assert sorted(offer["emag_id"] for offer in v2["results"]) == [1, 2]
        assert v1["data"]["pagination"]["total"] == 2
    v2 = api.get(f"{API}/emag/products/products", {"search": "şurub"}).json()
    assert sorted(offer["emag_id"] for offer in v2["results"]) == [3, 4]


def test_orders_are_found_by_customer_with_or_without_diacritics(admin_client):
    [first, second, _] = make_orders("main", 3)
    Order.objects.filter(pk=first.pk).update(customer_name="Ștefan Mureșan")
    Order.objects.filter(pk=second.pk).update(customer_name="Ştefan Ţăranu")  # cedilla forms

    def found_orders(term):
        return sorted(
            order_search(orders=Order.objects.all(), term=term).values_list("emag_id", flat=True)
        )

    assert found_orders("stefan") == [1, 2]
    assert found_orders("ȘTEFAN") == [1, 2]
    assert found_orders("muresan") == [1]
    assert found_orders("țăranu") == [2]
    response = admin_client.get(reverse("admin:emag_sync_order_changelist"), {"q": "taranu"})
    assert [order.emag_id for order in response.context["cl"].result_list] == [2]


def test_conflicts_are_found_by_offer_name_without_diacritics(admin_client, offers):
    make_conflict(offers["coffee"])
    make_conflict(offers["screw"])
    make_conflict(offers["bolt"])

    def found_conflicts(term):
        return sorted(
            conflict_search(conflicts=Conflict.objects.all(), term=term).values_list(
                "offer__emag_id", flat=True
            )
        )

    assert found_conflicts("cafetiera") == [1]
    assert found_conflicts("şurub") == [3, 4]
    assert found_conflicts("SKU-3") == [3]
    response = admin_client.get(reverse("admin:emag_sync_conflict_changelist"), {"q": "surub"})
    assert sorted(c.offer.emag_id for c in response.context["cl"].result_list) == [3, 4]
