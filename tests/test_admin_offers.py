"""Offers in the admin: filters, search, capped pagination, CSV export, detail and local overlay."""

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from emag_sync.admin import pagination
from emag_sync.models import Conflict, LocalEdit, Offer
from emag_sync.services.local_edits import local_edit_set
from tests.admin_support import client_with, make_offers, make_overlay, run_changelist_action

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at"),
]

CHANGELIST = reverse("admin:emag_sync_offer_changelist")
EXPORT = reverse("admin:emag_sync_offer_export")


@pytest.fixture
def offers():
    main = make_offers("main", 40)
    fbe = make_offers("fbe", 12, first_id=1001)
    return main, fbe


def listed(client, **params) -> list[int]:
    """Return the eMAG ids the changelist shows for these query parameters."""
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200, response
    return sorted(offer.emag_id for offer in response.context["cl"].result_list)


def change_url(offer) -> str:
    return reverse("admin:emag_sync_offer_change", args=[offer.pk])


def exported(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="offers-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_changelist_shows_the_columns_a_seller_scans(admin_client, offers):
    main, _ = offers
    local_edit_set(offer=main[0], field="sale_price", value="12.00")

    page = admin_client.get(CHANGELIST, {"account": "main"}).content.decode()

    for header in ("SKU", "Name", "Account", "Price", "Stock", "Status", "Validation", "Synced at"):
        assert f">{header}<" in page or f">{header}</a>" in page
    assert "MAIN-SKU-00001" in page and "11.50 RON" in page
    assert "<strong" in page and "12.00 RON" in page  # the local price, with eMAG's beside it
    assert "9 · Approved" in page
    assert 'class="mf-flag mf-flag-local"' in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"account": "fbe"}, list(range(1001, 1013))),
        ({"account": "main", "in_stock": "no"}, [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]),
        ({"account": "main", "missing": "yes"}, [2, 3]),
        ({"account": "main", "local_edits": "yes"}, [1, 11, 21, 31]),
        ({"account": "main", "open_conflicts": "yes"}, [1, 11, 21, 31]),
        ({"account": "main", "status__exact": "0"}, [5]),
        ({"account": "main", "validation_status": "8"}, [6]),
        ({"account": "main", "offer_validation_status": "2"}, [7]),
    ],
)
def test_each_filter_narrows_the_list(admin_client, offers, params, expected):
    main, _ = offers
    make_overlay(main)
    Offer.objects.filter(account="main", emag_id__in=[2, 3]).update(missing_since=timezone.now())
    Offer.objects.filter(account="main", emag_id=5).update(status=0)
    Offer.objects.filter(account="main", emag_id=6).update(validation_status=8)
    Offer.objects.filter(account="main", emag_id=7).update(offer_validation_status=2)

    assert listed(admin_client, **params) == expected


def test_a_resolved_conflict_no_longer_counts_as_open(admin_client, offers):
    main, _ = offers
    make_overlay(main)
    Conflict.objects.filter(offer=main[0]).update(status="resolved")

    assert listed(admin_client, account="main", open_conflicts="yes") == [11, 21, 31]
    assert 1 in listed(admin_client, account="main", open_conflicts="no")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("MAIN-SKU-0001", list(range(10, 20))),  # the start of a SKU
        ("main-sku-00007", [7]),  # case does not matter
        ("sku-00007", [7]),  # any part of a SKU
        ("-SKU-0100", [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]),
        ("PNK000012", [12]),  # PNK exactly
        ("5900000000013", [13]),  # an EAN
        ("1005", [1005]),  # an eMAG id
        ("product 38 green", [38]),  # every word of the name
    ],
)
def test_search_finds_sku_name_pnk_ean_and_emag_id(admin_client, offers, term, expected):
    assert listed(admin_client, q=term) == expected


def test_a_big_list_counts_only_ahead_of_the_page(admin_client, offers, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_AHEAD", 15)
    monkeypatch.setattr("emag_sync.admin.offers.OfferAdmin.list_per_page", 10)

    first = admin_client.get(CHANGELIST)
    fourth = admin_client.get(CHANGELIST, {"p": "4"})

    paginator = first.context["cl"].paginator
    assert paginator.is_capped and paginator.count == 26  # 10 + 15, plus one to know there is more
    assert "more than 25 offers" in first.content.decode()
    assert fourth.context["cl"].paginator.count == 52  # within 40 + 15 the count is exact
    assert not fourth.context["cl"].paginator.is_capped
    assert [offer.emag_id for offer in fourth.context["cl"].result_list] == list(range(19, 29))


def test_export_streams_exactly_the_filtered_and_searched_offers(admin_client, offers):
    response = admin_client.get(EXPORT, {"account": "main", "in_stock": "yes", "q": "blue"})

    rows = exported(response)

    expected = Offer.objects.filter(
        account="main", general_stock__gt=0, name__contains="blue"
    ).order_by("emag_id")
    assert [int(row["emag_id"]) for row in rows] == [offer.emag_id for offer in expected]
    assert rows[0]["sale_price"] == "11.5000" and rows[0]["ean"] == "5900000000001"


def test_the_export_link_carries_the_current_filters(admin_client, offers):
    page = admin_client.get(CHANGELIST, {"account": "fbe", "p": "1"}).content.decode()
    assert f'href="{EXPORT}?account=fbe&amp;p=1"' in page

    rows = exported(admin_client.get(EXPORT, {"account": "fbe", "p": "7"}))  # p is ignored

    assert len(rows) == 12


def test_the_export_selected_action_exports_the_ticked_offers(admin_client, offers):
    main, _ = offers
    response = run_changelist_action(
        admin_client, CHANGELIST, "export_selected_csv", [main[2], main[0]]
    )
    assert [row["emag_id"] for row in exported(response)] == ["1", "3"]


def test_export_needs_permission_to_view_offers(django_user_model, offers):
    assert client_with(django_user_model, "view_syncrun").get(EXPORT).status_code == 403


def test_the_detail_shows_emag_fields_read_only_json_readably_with_copy_buttons(
    admin_client, offers
):
    offer = offers[0][0]
    Offer.objects.filter(pk=offer.pk).update(
        raw={
            "id": offer.emag_id,
            "characteristics": [{"id": 1, "value": "Albastru"}],
            "description": "<p>Good</p>",
        },
    )
    make_overlay([offer])

    page = admin_client.get(change_url(offer)).content.decode()

    assert 'name="sale_price"' not in page and 'name="part_number"' not in page
    assert '<pre class="mf-json">[\n  {\n    &quot;id&quot;: 1,' in page
    for value in ("MAIN-SKU-00001", "PNK000001", "1"):
        assert f'data-copy="{value}"' in page
    assert 'id="mf-local-values"' in page and "99.00 RON" in page
    assert 'id="mf-offer-conflicts"' in page and "88.00 RON" in page
    assert 'id="mf-change-history"' in page and "general_stock" in page
    assert "Review 1 conflict" in page


def test_an_offer_stored_with_read_warnings_lists_them_first_and_is_filtered_on(
    admin_client, offers
):
    warned = offers[0][3]
    Offer.objects.filter(pk=warned.pk).update(
        read_warnings=["sale_price should be a price, got 'abc'"]
    )

    page = admin_client.get(change_url(warned)).content.decode()

    assert "Could not be read" in page and "sale_price should be a price" in page
    assert "Could not be read" not in admin_client.get(change_url(offers[0][4])).content.decode()
    assert listed(admin_client, read_warnings="yes") == [warned.emag_id]


def test_saving_a_local_price_records_a_local_edit_by_the_user(admin_client, admin_user, offers):
    offer = offers[0][0]

    response = admin_client.post(
        change_url(offer), {"overlay_sale_price": "123.45", "custom_attributes": "{}"}
    )

    assert response.status_code == 302
    edit = LocalEdit.objects.get(offer=offer)
    assert (edit.field, edit.value, edit.edited_by) == ("sale_price", "123.4500", admin_user)
    offer.refresh_from_db()
    assert str(offer.sale_price) == "11.5000"  # eMAG's column is untouched
    assert "Changed" in LogEntry.objects.get().get_change_message()


def test_emptying_a_local_value_brings_back_emags(admin_client, offers):
    offer = offers[0][0]
    local_edit_set(offer=offer, field="general_stock", value=7)
    page = admin_client.get(change_url(offer)).content.decode()
    assert 'name="overlay_general_stock" value="7"' in page

    admin_client.post(change_url(offer), {"overlay_general_stock": "", "custom_attributes": "{}"})

    assert not LocalEdit.objects.filter(offer=offer).exists()


def test_a_local_value_equal_to_emags_is_not_kept(admin_client, offers):
    offer = offers[0][0]
    response = admin_client.post(
        change_url(offer), {"overlay_sale_price": "11.5", "custom_attributes": "{}"}, follow=True
    )
    assert not LocalEdit.objects.exists()
    assert "equals eMAG" in response.content.decode()


def test_a_bad_local_value_is_explained_and_nothing_is_saved(admin_client, offers):
    offer = offers[0][0]
    response = admin_client.post(
        change_url(offer),
        {"overlay_sale_price": "-3", "overlay_handling_time": "300", "custom_attributes": "{}"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "overlay_sale_price" in errors and "overlay_handling_time" in errors
    assert not LocalEdit.objects.exists()


def test_fbe_stock_cannot_be_edited_locally(admin_client, offers):
    offer = offers[1][0]
    page = admin_client.get(change_url(offer)).content.decode()
    assert "Fulfilled by eMAG (FBE): eMAG manages the stock." in page

    admin_client.post(change_url(offer), {"overlay_general_stock": "5", "custom_attributes": "{}"})

    assert not LocalEdit.objects.exists()


def test_local_notes_are_saved_without_writing_emags_columns(admin_client, offers):
    offer = offers[0][0]
    admin_client.post(
        change_url(offer), {"local_notes": "Call the supplier", "custom_attributes": '{"a": 1}'}
    )
    offer.refresh_from_db()
    assert (offer.local_notes, offer.custom_attributes) == ("Call the supplier", {"a": 1})


def test_emag_html_in_help_texts_is_escaped(admin_client, offers):
    offer = offers[0][0]
    Offer.objects.filter(pk=offer.pk).update(
        name='<img src=x onerror="alert(1)">',
        raw={"id": offer.emag_id, "description": "<script>alert(2)</script>"},
    )
    page = admin_client.get(change_url(offer)).content.decode()
    assert "<img src=x" not in page and "<script>alert(2)" not in page


def test_a_viewer_sees_the_offer_but_no_inputs(django_user_model, offers):
    offer = offers[0][0]
    local_edit_set(offer=offer, field="sale_price", value="15.00")
    client = client_with(django_user_model, "view_offer")

    page = client.get(change_url(offer)).content.decode()

    assert 'name="overlay_sale_price"' not in page and "15.00 RON" in page
    client.post(change_url(offer), {"overlay_sale_price": "1", "custom_attributes": "{}"})
    assert LocalEdit.objects.get().value == "15.0000"


def test_offers_are_never_added_or_deleted_by_hand(admin_client, offers):
    offer = offers[0][0]
    assert admin_client.get(reverse("admin:emag_sync_offer_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:emag_sync_offer_delete", args=[offer.pk])).status_code
        == 403
    )


def test_the_local_edits_list_shows_both_values_and_drops_them(admin_client, offers):
    main, _ = offers
    make_overlay(main)
    url = reverse("admin:emag_sync_localedit_changelist")

    page = admin_client.get(url).content.decode()
    assert "99.00 RON" in page and "11.50 RON" in page

    run_changelist_action(
        admin_client, url, "drop_local_values", LocalEdit.objects.values_list("pk", flat=True)
    )
    assert not LocalEdit.objects.exists()
