"""Bulk price and stock changes: a preview of old and new values, then apply through the outbox."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from emag_sync.models import LocalEdit, Offer, OfferPush, PushState
from emag_sync.selectors import offer_overlay_prefetch
from emag_sync.services.bulk_edits import (
    BulkChangeError,
    bulk_change_apply,
    bulk_change_rows,
)
from emag_sync.services.local_edits import local_edit_set
from tests.push_support import offer_payload, sync_page

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:emag_sync_offer_changelist")


@pytest.fixture
def offers():
    """Three MAIN offers at 1,200 RON within [1,003, 1,500], recommended 1,400; one at 1,000."""
    sync_page(
        [
            offer_payload(1),
            offer_payload(2),
            offer_payload(3, sale_price="1000.0000", min_sale_price="900.0000"),
        ]
    )
    return Offer.objects.filter(account="main").order_by("emag_id")


def preview(offers, field, operation, amount):
    return {
        row.offer.emag_id: (row.old, row.new, row.error)
        for row in bulk_change_rows(
            offers=offers, field=field, operation=operation, amount=Decimal(amount)
        )
    }


def test_a_percentage_raise_is_rounded_to_cents(offers):
    rows = preview(offers, "sale_price", "raise_percent", "3.333")

    # 1,200 × 1.03333 = 1,239.996; 1,000 × 1.03333 = 1,033.33
    assert rows == {
        1: (Decimal("1200.00"), Decimal("1240.00"), ""),
        2: (Decimal("1200.00"), Decimal("1240.00"), ""),
        3: (Decimal("1000.00"), Decimal("1033.33"), ""),
    }


def test_lower_by_percent_and_by_amount_and_set(offers):
    assert preview(offers, "sale_price", "lower_percent", "10")[1][1] == Decimal("1080.00")
    assert preview(offers, "sale_price", "lower_amount", "7.775")[1][1] == Decimal("1192.23")
    assert preview(offers, "sale_price", "raise_amount", "0.5")[3][1] == Decimal("1000.50")
    assert {new for _, new, _ in preview(offers, "sale_price", "set", "1100").values()} == {
        Decimal("1100.00")
    }


def test_the_base_is_the_value_in_effect_a_local_one_where_set(offers):
    local_edit_set(offer=offers[0], field="sale_price", value="1300")

    rows = preview(offers, "sale_price", "raise_amount", "10")

    assert rows[1][:2] == (Decimal("1300.00"), Decimal("1310.00"))
    assert rows[2][:2] == (Decimal("1200.00"), Decimal("1210.00"))


def test_a_price_outside_min_max_is_refused_in_the_preview_never_clamped(offers):
    rows = preview(offers, "sale_price", "lower_percent", "20")

    # 1,200 → 960 is below 1,003; 1,000 → 800 is below 900.
    assert rows[1][1] == Decimal("960.00") and "within [1003.00, 1500.00]" in rows[1][2]
    assert rows[3][1] == Decimal("800.00") and "within [900.00, 1500.00]" in rows[3][2]


def test_the_preview_saves_nothing_and_reads_in_two_queries(offers, django_assert_num_queries):
    # As the changelist hands it over: some columns only, local values prefetched.
    listed = offer_overlay_prefetch(offers.only("pk", "account", "emag_id", "sale_price"))
    with django_assert_num_queries(2):
        bulk_change_rows(offers=listed, field="sale_price", operation="set", amount=Decimal("1100"))

    assert not LocalEdit.objects.exists() and not OfferPush.objects.exists()


def test_applying_writes_the_accepted_values_through_the_outbox_and_leaves_the_refused(
    offers, admin_user
):
    changed, refused = bulk_change_apply(
        offer_ids=offers.values_list("pk", flat=True),
        field="sale_price",
        operation="lower_amount",
        amount=Decimal("150"),
        user=admin_user,
    )

    # 1,200 → 1,050 is inside [1,003, 1,500]; 1,000 → 850 is below 900.
    assert changed == 2
    assert [row.offer.emag_id for row in refused] == [3]
    assert dict(LocalEdit.objects.values_list("offer__emag_id", "value")) == {
        1: "1050.0000",
        2: "1050.0000",
    }
    pushes = OfferPush.objects.filter(state=PushState.PENDING)
    assert {push.offer.emag_id: push.values for push in pushes} == {
        1: {"sale_price": "1050.0000"},
        2: {"sale_price": "1050.0000"},
    }
    assert all(push.requested_by == admin_user for push in pushes)


def test_stock_is_set_or_moved_by_whole_units_never_below_zero(offers):
    assert {
        new for _, new, _ in preview(offers, "general_stock", "raise_amount", "3").values()
    } == {8}
    rows = preview(offers, "general_stock", "lower_amount", "6")
    assert rows[1] == (5, -1, "stock cannot go below 0")
    with pytest.raises(BulkChangeError, match="units"):
        preview(offers, "general_stock", "raise_percent", "10")
    with pytest.raises(BulkChangeError, match="whole"):
        preview(offers, "general_stock", "set", "2.5")


def test_only_prices_and_stock_change_in_bulk(offers):
    with pytest.raises(BulkChangeError):
        preview(offers, "name", "set", "1")


def post_action(client, offers, **data):
    return client.post(
        CHANGELIST,
        {
            "action": "bulk_change",
            ACTION_CHECKBOX_NAME: [offer.pk for offer in offers],
            **data,
        },
    )


def test_the_admin_action_shows_a_preview_then_applies_on_confirm(admin_client, offers):
    form = post_action(admin_client, offers)
    assert form.status_code == 200
    assert b"without VAT" in form.content and b"Nothing is saved until you apply" in form.content

    change = {"field": "sale_price", "operation": "raise_percent", "amount": "30"}
    shown = post_action(admin_client, offers, bulk_step="preview", **change)
    rows = shown.context["rows"]
    assert [(row.old, row.new) for row in rows] == [
        (Decimal("1200.00"), Decimal("1560.00")),
        (Decimal("1200.00"), Decimal("1560.00")),
        (Decimal("1000.00"), Decimal("1300.00")),
    ]
    assert shown.context["refused"] == 2 and shown.context["changing"] == 1
    assert b"1560.00" in shown.content and b"must be within [1003.00, 1500.00]" in shown.content
    assert not LocalEdit.objects.exists()

    applied = post_action(admin_client, offers, bulk_step="apply", **change)

    assert applied.status_code == 302
    assert dict(LocalEdit.objects.values_list("offer__emag_id", "value")) == {3: "1300.0000"}
    assert OfferPush.objects.filter(state=PushState.PENDING).count() == 1


def test_a_bad_amount_is_explained_and_nothing_is_saved(admin_client, offers):
    response = post_action(
        admin_client, offers, bulk_step="apply", field="sale_price", operation="set", amount="-1"
    )

    assert response.status_code == 200 and response.context["form"].errors
    assert not LocalEdit.objects.exists()


def test_the_bulk_change_needs_permission_to_change_offers(django_user_model, offers, client):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_offer"))
    client.force_login(viewer)

    response = post_action(
        client, offers, bulk_step="apply", field="sale_price", operation="set", amount="1100"
    )

    assert not LocalEdit.objects.exists()
    assert response.status_code in (200, 302)
