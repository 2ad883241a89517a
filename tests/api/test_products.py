"""The offer list (filters, search, ordering, paging, CSV), one offer, its edits and changes."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from emag_sync.models import Conflict, LocalEdit, Offer, OfferChange
from tests.api.conftest import API, client_for
from tests.factories import make_conflict, make_local_edit, make_offer

pytestmark = pytest.mark.django_db

PRODUCTS = f"{API}/emag/products/products"


def emag_ids(response) -> list[int]:
    return [offer["emag_id"] for offer in response.json()["results"]]


def test_the_list_shows_offers_with_their_local_values_and_conflict_flag(api, superuser):
    offer = make_offer(emag_id=11, sale_price=Decimal("12.5000"), ean=["5941234567890"])
    make_local_edit(offer, "sale_price", "11.0000", edited_by=superuser)
    make_conflict(offer)

    response = api.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [shown] = body["results"]
    assert shown["account_type"] == "main"
    assert shown["sale_price"] == "12.5000"
    assert shown["ean"] == ["5941234567890"]
    assert shown["local_edits"] == [
        {
            "field": "sale_price",
            "value": "11.0000",
            "edited_by": "root",
            "edited_at": shown["local_edits"][0]["edited_at"],
        }
    ]
    assert shown["has_open_conflicts"] is True
    assert "raw" not in shown


def test_a_page_of_50_offers_takes_as_many_queries_as_a_page_of_5(api, superuser):
    def queries_for(count: int) -> int:
        Offer.objects.all().delete()
        for _ in range(count):
            offer = make_offer()
            make_local_edit(offer, "name", "Local", edited_by=superuser)
            make_conflict(offer)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(PRODUCTS, {"limit": 100})
        assert len(response.json()["results"]) == count
        return len(queries)

    assert queries_for(5) == queries_for(50)


def test_limit_with_offset_or_the_predecessors_skip_pages_the_list(api):
    for emag_id in range(1, 8):
        make_offer(emag_id=emag_id)

    assert emag_ids(api.get(PRODUCTS, {"limit": 3})) == [1, 2, 3]
    assert emag_ids(api.get(PRODUCTS, {"limit": 3, "offset": 3})) == [4, 5, 6]
    page = api.get(PRODUCTS, {"limit": 3, "skip": 6}).json()
    assert [offer["emag_id"] for offer in page["results"]] == [7]
    assert page["count"] == 7
    assert page["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"skip": "1e3"}, "skip"),
        ({"offset": 2, "skip": 3}, "skip"),
        ({"offset": 10**12}, "offset"),
    ],
)
def test_a_bad_limit_offset_or_skip_is_a_400_not_a_silent_clamp(api, params, field):
    response = api.get(PRODUCTS, params)

    assert response.status_code == 400
    assert field in response.json()


def test_filters_select_by_account_status_stock_missing_price_validation_and_sync_time(api):
    now = timezone.now()
    make_offer("main", emag_id=1, status=1, general_stock=0, sale_price=Decimal("10"))
    make_offer("main", emag_id=2, status=0, general_stock=3, sale_price=Decimal("50"))
    make_offer("fbe", emag_id=3, status=2, general_stock=9, missing_since=now)
    make_offer("fbe", emag_id=4, validation_status=9, synced_at=now + timedelta(minutes=1))

    def ids(**params):
        return emag_ids(api.get(PRODUCTS, params))

    assert ids(account_type="main") == [1, 2]
    assert ids(account_type="FBE") == [3, 4]
    assert ids(account_type="both") == [3, 4, 1, 2]  # by account, then eMAG id
    assert ids(status=0) == [2]
    assert ids(in_stock="false") == [1]
    assert ids(in_stock="true", account_type="fbe") == [3, 4]
    assert ids(missing="true") == [3]
    assert ids(price_min="20", price_max="60.5") == [2]
    assert ids(validation_status=9) == [4]
    assert ids(synced_since=(now + timedelta(seconds=30)).isoformat()) == [4]


def test_search_finds_an_offer_by_emag_id_ean_pnk_any_part_of_its_sku_or_name(api):
    make_offer(
        emag_id=233746,
        part_number="SW506AMT",
        part_number_key="D7658AXYB",
        name="Mașină de tuns iarba Gardena",
        ean=["5947119444934"],
    )
    make_offer(emag_id=1, part_number="XG2655TP", part_number_key="D1", name="Cafetieră")

    def found(term):
        return emag_ids(api.get(PRODUCTS, {"search": term}))

    assert found("233746") == [233746]
    assert found("5947119444934") == [233746]
    assert found("d7658axyb") == [233746]
    assert found("sw506") == [233746]
    assert found("506amt") == [233746]  # any part of a SKU, as the predecessor matched
    assert found("655T") == [1]
    assert found("tuns iarba") == [233746]
    assert found("cafetie") == [1]
    assert found("99999999999999999999999") == []
    assert found("   ") == [1, 233746]


def test_ordering_sorts_by_the_allowed_fields(api):
    make_offer(emag_id=1, sale_price=Decimal("30"), name="b")
    make_offer(emag_id=2, sale_price=Decimal("10"), name="c")
    make_offer(emag_id=3, sale_price=Decimal("20"), name="a")

    assert emag_ids(api.get(PRODUCTS, {"ordering": "-sale_price"})) == [1, 3, 2]
    assert emag_ids(api.get(PRODUCTS, {"ordering": "name"})) == [3, 1, 2]


def test_format_csv_streams_every_filtered_offer_unpaged(api):
    for emag_id in range(1, 6):
        make_offer("main" if emag_id < 5 else "fbe", emag_id=emag_id)

    response = api.get(PRODUCTS, {"format": "csv", "account_type": "main", "limit": 2})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["account", "emag_id", "part_number"]
    assert [row[1] for row in rows[1:]] == ["1", "2", "3", "4"]


def test_an_accept_header_of_text_csv_also_gets_csv(api):
    make_offer()

    response = api.get(PRODUCTS, HTTP_ACCEPT="text/csv")

    assert response["Content-Type"].startswith("text/csv")


def test_csv_with_a_bad_filter_or_an_unknown_format_answers_a_json_400(api):
    bad_filter = api.get(PRODUCTS, {"format": "csv", "status": "x"})
    unknown_format = api.get(PRODUCTS, {"format": "xml"})

    for response in (bad_filter, unknown_format):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
    assert "format" in unknown_format.json()


def test_one_offer_shows_its_detail_and_open_conflicts(api):
    images = [{"display_type": 1, "url": "https://example.test/1.jpg"}]
    offer = make_offer(
        local_notes="ours", raw={"id": 1, "description": "Long text", "images": images}
    )
    conflict = make_conflict(offer)
    make_conflict(offer, field="name", status="resolved")

    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"{PRODUCTS}/{offer.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "Long text"
    # Read from the stored payload, loaded with the offer: no second query for it.
    assert (body["images"], body["characteristics"], body["family"]) == (images, [], None)
    assert sum('FROM "emag_sync_offer"' in query["sql"] for query in queries) == 1
    assert body["local_notes"] == "ours"
    assert [item["id"] for item in body["open_conflicts"]] == [conflict.pk]


def test_an_unknown_offer_is_a_404(api):
    assert api.get(f"{PRODUCTS}/999").status_code == 404
    assert api.patch(f"{PRODUCTS}/999", {"name": "x"}, format="json").status_code == 404


def test_patch_sets_local_values_and_null_drops_them(api):
    offer = make_offer(sale_price=Decimal("100"))

    response = api.patch(
        f"{PRODUCTS}/{offer.pk}",
        {"sale_price": "95.5", "name": "Local name", "local_notes": "call supplier"},
        format="json",
    )

    assert response.status_code == 200
    edits = {edit["field"]: edit["value"] for edit in response.json()["local_edits"]}
    assert edits == {"name": "Local name", "sale_price": "95.5000"}
    assert response.json()["sale_price"] == "100.0000"  # eMAG's value stays as eMAG sent it
    assert response.json()["local_notes"] == "call supplier"

    response = api.patch(f"{PRODUCTS}/{offer.pk}", {"sale_price": None}, format="json")

    assert [edit["field"] for edit in response.json()["local_edits"]] == ["name"]


def test_dropping_a_local_value_closes_its_conflict_in_emags_favour(api):
    offer = make_offer()
    make_local_edit(offer, "sale_price", "90.0000")
    conflict = make_conflict(offer)

    api.patch(f"{PRODUCTS}/{offer.pk}", {"sale_price": None}, format="json")

    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolution) == ("resolved", "accept_emag")


def test_stock_is_read_only_on_fbe_offers_and_a_bad_field_saves_nothing(api):
    offer = make_offer("fbe")

    response = api.patch(
        f"{PRODUCTS}/{offer.pk}", {"general_stock": 3, "name": "Renamed"}, format="json"
    )

    assert response.status_code == 400
    assert "FBE" in response.json()["general_stock"][0]
    assert not LocalEdit.objects.exists()


def test_stock_is_editable_on_offers_the_seller_fulfils(api):
    offer = make_offer("main", general_stock=5)

    response = api.patch(f"{PRODUCTS}/{offer.pk}", {"general_stock": 8}, format="json")

    assert response.status_code == 200
    assert LocalEdit.objects.get().value == 8


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"price": "10"}, "price"),
        ({"sale_price": "0"}, "sale_price"),
        ({"sale_price": "1.23456"}, "sale_price"),
        ({"sale_price": "Infinity"}, "sale_price"),
        ({"general_stock": -1}, "general_stock"),
        ({"handling_time": 256}, "handling_time"),
        ({"status": 3}, "status"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"custom_attributes": {"color": "red\x00"}}, "custom_attributes"),
        ({"custom_attributes": ["not", "an", "object"]}, "custom_attributes"),
    ],
)
def test_a_bad_patch_is_a_400_naming_the_field_and_changes_nothing(api, body, field):
    offer = make_offer()

    response = api.patch(f"{PRODUCTS}/{offer.pk}", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not LocalEdit.objects.exists()
    offer.refresh_from_db()
    assert offer.custom_attributes == {}


def test_changes_list_an_offers_history_newest_first(api):
    offer = make_offer()
    now = timezone.now()
    older = OfferChange.objects.create(
        offer=offer, field="sale_price", old_value="1.0000", new_value="2.0000", changed_at=now
    )
    newer = OfferChange.objects.create(
        offer=offer,
        field="general_stock",
        old_value=1,
        new_value=0,
        changed_at=now + timedelta(minutes=1),
    )
    OfferChange.objects.create(
        offer=make_offer(), field="name", old_value="a", new_value="b", changed_at=now
    )

    response = api.get(f"{PRODUCTS}/{offer.pk}/changes")

    assert response.status_code == 200
    assert [change["id"] for change in response.json()["results"]] == [newer.pk, older.pk]
    assert response.json()["results"][0]["new_value"] == 0


def test_changes_of_an_unknown_offer_are_a_404(api):
    assert api.get(f"{PRODUCTS}/12345/changes").status_code == 404


def test_a_reader_may_not_patch(reader):
    offer = make_offer()

    response = client_for(reader).patch(f"{PRODUCTS}/{offer.pk}", {"name": "x"}, format="json")

    assert response.status_code == 403
    assert not Conflict.objects.exists() and not LocalEdit.objects.exists()


def test_a_percent_sign_in_a_bad_account_name_is_quoted_not_a_crash(api):
    response = api.get(PRODUCTS, {"account_type": "50%"})

    assert response.status_code == 400
    assert "50%" in response.json()["account_type"][0]
