"""On PostgreSQL an offer's row starts with the columns a search reads (migration 0011).

A search rechecks every candidate row, and PostgreSQL walks a row's columns in order to reach
the ones it compares, so those come first. The migration rebuilds the table to get there;
these tests hold it to keeping everything else as it was.
"""

import importlib

import pytest
from django.db import IntegrityError, connection, transaction

from emag_sync.models import Offer, OfferChange
from emag_sync.selectors import offer_search
from tests.api.conftest import make_offer

layout = importlib.import_module("emag_sync.migrations.0011_offer_search_columns_first")

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def offer_columns() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'emag_sync_offer' ORDER BY ordinal_position"
        )
        return [name for (name,) in cursor.fetchall()]


# What the table is besides its column order, each as PostgreSQL's catalogue describes it.
SCHEMA_QUERIES = {
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'emag_sync_offer'",
    "constraints": "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'emag_sync_offer'::regclass",
    "references": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
    "FROM pg_constraint WHERE confrelid = 'emag_sync_offer'::regclass",
    "columns": "SELECT column_name, data_type, is_nullable, generation_expression "
    "FROM information_schema.columns WHERE table_name = 'emag_sync_offer'",
    "options": "SELECT unnest(reloptions) FROM pg_class WHERE relname = 'emag_sync_offer'",
}


def offer_table_schema() -> dict[str, set]:
    """Return the offer table's indexes, constraints, columns, options and inbound keys."""
    schema = {}
    with connection.cursor() as cursor:
        for part, query in SCHEMA_QUERIES.items():
            cursor.execute(query)
            schema[part] = set(cursor.fetchall())
    return schema


def rebuild_with_leading_columns(leading: list[str]) -> bool:
    with connection.cursor() as cursor:
        # Foreign key checks of rows this test wrote would otherwise still be pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return layout.rebuild_with_leading_columns(cursor, "emag_sync_offer", leading)


def test_an_offer_row_starts_with_the_account_emag_id_status_and_search_columns(
    postgres_required,
):
    searched = {"account", "emag_id", "status", "name_search", "part_number_search"}
    searched.add("part_number_key_search")

    assert offer_columns()[: len(layout.LEADING_COLUMNS)] == layout.LEADING_COLUMNS
    assert searched <= set(layout.LEADING_COLUMNS)


def test_the_rebuild_keeps_every_row_id_key_index_and_reference(postgres_required):
    first = make_offer(name="Mașină de tuns iarba", ean=["5947119444934"])
    second = make_offer(name="Televizor LED")
    rows_before = list(Offer.objects.order_by("pk").values())
    schema_before = offer_table_schema()

    assert rebuild_with_leading_columns(["id", "name", "account"])

    assert offer_columns()[:3] == ["id", "name", "account"]
    assert list(Offer.objects.order_by("pk").values()) == rows_before
    assert offer_table_schema() == schema_before
    assert list(offer_search(offers=Offer.objects.all(), term="mașină")) == [first]
    assert list(offer_search(offers=Offer.objects.all(), term="5947119444934")) == [first]
    # Ids go on from where they were, never reusing one.
    assert make_offer().pk == second.pk + 1
    # The tables that point at offers still may not point anywhere else.
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferChange.objects.create(
            offer_id=second.pk + 1000, field="name", changed_at=second.synced_at
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_table_already_in_order_is_left_as_it_is(postgres_required):
    make_offer()

    assert not rebuild_with_leading_columns(layout.LEADING_COLUMNS)
