"""On PostgreSQL every branch of the offer and order searches can use an index (migration
0002_postgresql).

The planner is told to avoid sequential scans, so the plan shows whether an index fits each
branch; on a real catalogue of 100,000 offers it then picks them by itself.
"""

import pytest
from django.db import connection, transaction

from emag_sync.models import Offer, Order
from emag_sync.selectors import offer_search, order_search
from tests.admin_support import make_orders
from tests.api.conftest import make_offer

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def plan(searched) -> str:
    """Return the plan of a searched queryset, sequential scans made the last resort."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return searched.explain()


def offers_plan(term: str) -> str:
    return plan(offer_search(offers=Offer.objects.order_by(), term=term))


def test_a_text_search_uses_the_pnk_and_the_sku_and_name_trigram_indexes(postgres_required):
    make_offer(name="Mașină de tuns iarba", part_number="SW506AMT")

    text_plan = offers_plan("tuns")

    assert "offer_pnk_search" in text_plan
    assert "offer_sku_search_trgm" in text_plan
    assert "offer_name_search_trgm" in text_plan
    assert "Seq Scan on emag_sync_offer" not in text_plan


def test_a_search_for_the_middle_of_a_sku_finds_it_through_the_sku_trigram_index(
    postgres_required,
):
    wanted = make_offer(part_number="SW506AMT-XL")
    make_offer(part_number="OTHER-1")

    assert list(offer_search(offers=Offer.objects.all(), term="06amt")) == [wanted]
    assert "offer_sku_search_trgm" in offers_plan("506AMT")


def test_a_numeric_search_also_uses_the_emag_id_and_ean_indexes(postgres_required):
    make_offer(emag_id=233746, ean=["5947119444934"])

    number_plan = offers_plan("5947119444934")

    assert "offer_emag_id" in number_plan
    assert "offer_ean" in number_plan
    assert "Seq Scan on emag_sync_offer" not in number_plan


def test_a_customer_search_uses_the_customer_name_trigram_index(postgres_required):
    make_orders("main", 3)

    customer_plan = plan(order_search(orders=Order.objects.order_by(), term="ionescu"))

    assert "order_customer_search_trgm" in customer_plan
    assert "Seq Scan on emag_sync_order" not in customer_plan


def test_the_missing_filter_reads_an_index_of_missing_offers_only(postgres_required):
    make_offer(emag_id=1)
    gone = make_offer(emag_id=2)
    Offer.objects.filter(pk=gone.pk).update(missing_since=gone.synced_at)

    missing_plan = plan(Offer.objects.filter(missing_since__isnull=False).order_by())

    assert "offer_missing" in missing_plan
    assert "Seq Scan on emag_sync_offer" not in missing_plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('offer_missing'::regclass)")
        # Present offers, nearly all of a catalogue, add no entry to it.
        assert "WHERE (missing_since IS NOT NULL)" in cursor.fetchone()[0]
