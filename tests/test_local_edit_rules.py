"""eMAG's rules are checked when a local value is edited, so none eMAG refuses is ever queued."""

import pytest
import responses
from django.core.cache import cache
from rest_framework.test import APIClient

from emag_sync.models import LocalEdit, OfferPush
from emag_sync.services.local_edits import (
    LocalEditError,
    local_edit_set,
    local_edits_check,
    offer_local_update,
)
from emag_sync.services.vat_rates import vat_ids_accepted
from tests.conftest import TEST_API_ROOT
from tests.push_support import remember_vat_ids, stored_offer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_vat_lists():
    cache.delete_many(["emag:vat-ids:main", "emag:vat-ids:fbe"])
    yield
    cache.delete_many(["emag:vat-ids:main", "emag:vat-ids:fbe"])


def test_a_sale_price_below_emags_minimum_is_refused_naming_the_field():
    offer = stored_offer()  # eMAG: min 1003, max 1500

    with pytest.raises(LocalEditError) as refused:
        local_edit_set(offer=offer, field="sale_price", value="1")

    assert list(refused.value.errors) == ["sale_price"]
    assert (
        "sale_price 1.00 must be within [1003.00, 1500.00]" in refused.value.errors["sale_price"][0]
    )
    assert not LocalEdit.objects.exists() and not OfferPush.objects.exists()


def test_a_local_range_replaces_emags_when_set_together_with_the_price():
    offer = stored_offer()

    offer_local_update(
        offer=offer,
        edits={"min_sale_price": "500", "sale_price": "600", "recommended_price": "700"},
    )

    assert set(LocalEdit.objects.values_list("field", flat=True)) == {
        "min_sale_price",
        "sale_price",
        "recommended_price",
    }
    with pytest.raises(LocalEditError) as refused:
        local_edit_set(offer=offer, field="sale_price", value="450")  # below the local minimum
    assert list(refused.value.errors) == ["sale_price"]


def test_a_range_change_that_leaves_the_price_outside_names_the_range_field():
    offer = stored_offer()

    with pytest.raises(LocalEditError) as refused:
        local_edits_check(offer=offer, edits={"max_sale_price": "1100"})  # sale is 1200

    assert list(refused.value.errors) == ["max_sale_price"]


def test_the_maximum_must_stay_above_the_minimum():
    offer = stored_offer()

    with pytest.raises(LocalEditError) as refused:
        local_edits_check(offer=offer, edits={"min_sale_price": "1600"})

    assert refused.value.errors == {
        "min_sale_price": ["max_sale_price (1500.00) must be above min_sale_price (1600.00)"]
    }


@pytest.mark.parametrize(
    ("edits", "fields"),
    [
        ({"recommended_price": "1200"}, ["recommended_price"]),
        ({"sale_price": "1450"}, ["sale_price"]),
    ],
)
def test_the_recommended_price_must_stay_above_the_sale_price(edits, fields):
    offer = stored_offer()  # sale 1200, recommended 1400

    with pytest.raises(LocalEditError) as refused:
        local_edits_check(offer=offer, edits=edits)

    assert list(refused.value.errors) == fields
    assert "must be above sale_price" in refused.value.errors[fields[0]][0]


def test_clearing_a_local_range_falls_back_to_emags_for_the_check():
    offer = stored_offer()
    offer_local_update(offer=offer, edits={"min_sale_price": "500", "sale_price": "600"})

    with pytest.raises(LocalEditError) as refused:
        local_edits_check(offer=offer, edits={"min_sale_price": None})

    assert list(refused.value.errors) == ["min_sale_price"]


def test_a_vat_id_must_be_one_emag_lists():
    offer = stored_offer()
    remember_vat_ids("main", {1, 2, 3, 4})

    local_edit_set(offer=offer, field="vat_id", value=2)
    with pytest.raises(LocalEditError) as refused:
        local_edit_set(offer=offer, field="vat_id", value=9)

    assert refused.value.errors == {
        "vat_id": ["vat_id 9 is not one eMAG accepts (vat/read lists: 1, 2, 3, 4)"]
    }
    assert OfferPush.objects.get().values == {"vat_id": 2}


def test_the_vat_list_is_read_from_emag_once_and_cached():
    with responses.RequestsMock() as mock:
        mock.post(
            f"{TEST_API_ROOT}/main/api-3/vat/read",
            json={"isError": False, "messages": [], "results": [{"vat_id": 1}, {"vat_id": 5}]},
        )
        assert vat_ids_accepted(account="main") == frozenset({1, 5})
        assert vat_ids_accepted(account="main") == frozenset({1, 5})
        assert len(mock.calls) == 1


def test_a_vat_id_is_refused_while_emags_list_cannot_be_read(settings):
    settings.EMAG_MAX_RETRIES = 0
    offer = stored_offer()
    with responses.RequestsMock() as mock:
        mock.post(f"{TEST_API_ROOT}/main/api-3/vat/read", status=503, body="down")
        with pytest.raises(LocalEditError, match="vat_id cannot be checked now"):
            local_edit_set(offer=offer, field="vat_id", value=2)


def test_fbe_stock_is_refused():
    offer = stored_offer(account="fbe")

    with pytest.raises(LocalEditError) as refused:
        local_edit_set(offer=offer, field="general_stock", value=3)

    assert list(refused.value.errors) == ["general_stock"]


def test_one_stock_value_is_refused_on_an_offer_with_several_warehouses():
    offer = stored_offer(
        stock=[{"warehouse_id": 1, "value": 2}, {"warehouse_id": 2, "value": 3}], general_stock=5
    )

    with pytest.raises(LocalEditError, match="2 warehouses"):
        local_edit_set(offer=offer, field="general_stock", value=9)


def test_the_api_answers_400_naming_the_field(admin_user):
    offer = stored_offer()
    api = APIClient()
    api.force_authenticate(admin_user)

    response = api.patch(
        f"/api/v2/emag/products/products/{offer.pk}",
        {"sale_price": "1", "recommended_price": "0.5"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"sale_price", "recommended_price"}
    assert not OfferPush.objects.exists()


def test_the_admin_form_shows_the_error_on_the_field(admin_client):
    offer = stored_offer()

    response = admin_client.post(
        f"/admin/emag_sync/offer/{offer.pk}/change/",
        {"overlay_sale_price": "1", "local_notes": "", "custom_attributes": "{}"},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["overlay_sale_price"]
    assert "without VAT" in str(form.fields["overlay_sale_price"].label)
    assert not LocalEdit.objects.exists()
