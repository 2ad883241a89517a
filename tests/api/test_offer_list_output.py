"""The offer list's rendering: written out for speed, and exactly DRF's rendering of its fields."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from emag_sync.api.serializers import OFFER_LIST_COLUMNS, OfferListOutput
from emag_sync.api.serializers.offers import OFFER_LIST_FIELDS, OfferOutput
from emag_sync.models import LocalEdit
from emag_sync.selectors.offers import offer_list_with_overlay
from tests.factories import make_conflict, make_offer

pytestmark = pytest.mark.django_db


def _offers_of_every_shape(superuser) -> None:
    now = timezone.now()
    make_offer(emag_id=1)
    make_offer(
        emag_id=2,
        sale_price=Decimal("5"),
        recommended_price=Decimal("12.3"),
        min_sale_price=Decimal("0.0001"),
        max_sale_price=Decimal("123456.7891"),
        best_offer_sale_price=Decimal("4.9900"),
        ean=["5941234567890", "0012345678905"],
        missing_since=now - timedelta(minutes=7, microseconds=1),
        validation_status=9,
        validation_status_description="Approved documentation",
        offer_validation_status=1,
        offer_validation_status_description="Valid",
        number_of_offers=3,
        buy_button_rank=1,
        url="https://www.emag.ro/produs/pd/D2",
        vat_id=1,
        emag_offer_id=99,
        brand="Ăla-Bală",
    )
    make_offer(
        "fbe",
        emag_id=3,
        sale_price=None,
        status=None,
        general_stock=None,
        name="Mașină de spălat",
    )
    with_edits = make_offer(emag_id=4)
    for field, value, user in (("sale_price", "90.0000", superuser), ("name", "Local", None)):
        LocalEdit.objects.create(
            offer=with_edits, field=field, value=value, edited_by=user, edited_at=now
        )
    make_conflict(with_edits)


@pytest.mark.parametrize("current_timezone", ["UTC", "Europe/Bucharest", "America/St_Johns"])
def test_every_offer_renders_exactly_as_drf_renders_the_declared_fields(
    superuser, current_timezone
):
    _offers_of_every_shape(superuser)
    page = list(offer_list_with_overlay().only(*OFFER_LIST_COLUMNS))

    with timezone.override(current_timezone):
        written_out = OfferListOutput(page, many=True).data
        by_drf = OfferOutput(page, many=True).data

    assert len(written_out) == 4
    assert written_out == by_drf


def test_each_rendered_offer_has_exactly_the_declared_fields_in_their_order(superuser):
    _offers_of_every_shape(superuser)

    for shown in OfferListOutput(offer_list_with_overlay(), many=True).data:
        assert list(shown) == OFFER_LIST_FIELDS
