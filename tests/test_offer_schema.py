"""The schema `migrate` builds: the models as written, plus what PostgreSQL gets beyond them.

An offer's row starts with the columns a search reads (PostgreSQL walks a row's columns in
order to reach the ones it compares), content hashes are stored as bytes, offers are found by
an EAN of their own list, and on PostgreSQL the search indexes, lz4 payloads and the offer
table's TOAST target are there.
"""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from emag_sync.models import Offer, Order
from emag_sync.selectors import offer_search
from emag_sync.services.offer_mapping import content_hash
from tests.api.conftest import make_offer

pytestmark = pytest.mark.django_db

SEARCH_LEADING_COLUMNS = [
    "id",
    "account",
    "emag_id",
    "status",
    "name_search",
    "part_number_search",
    "part_number_key_search",
]
POSTGRESQL_INDEXES = {
    "offer_name_search_trgm": "USING gin (name_search gin_trgm_ops)",
    "offer_sku_search_trgm": "USING gin (part_number_search gin_trgm_ops)",
    "offer_pnk_search": "USING btree (part_number_key_search)",
    "offer_ean": "USING gin (ean jsonb_path_ops)",
    "order_customer_search_trgm": "USING gin (customer_name_search gin_trgm_ops)",
}


def table_columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [
            column.name for column in connection.introspection.get_table_description(cursor, table)
        ]


def test_the_migrations_describe_the_models_exactly():
    output = StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=output)

    assert "No changes detected" in output.getvalue()


def test_every_model_table_has_the_models_columns_constraints_and_indexes():
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for model in apps.get_app_config("emag_sync").get_models():
            table = model._meta.db_table
            assert table in tables, table
            expected = {field.column for field in model._meta.local_concrete_fields}
            assert set(table_columns(table)) == expected, table
            stored = connection.introspection.get_constraints(cursor, table)
            named = [*model._meta.constraints, *model._meta.indexes]
            assert {item.name for item in named} <= set(stored), table


def test_an_offer_row_starts_with_the_account_emag_id_status_and_search_columns():
    leading = table_columns("emag_sync_offer")[: len(SEARCH_LEADING_COLUMNS)]

    assert leading == SEARCH_LEADING_COLUMNS


@pytest.mark.parametrize("model", [Offer, Order])
def test_a_content_hash_is_stored_as_the_16_bytes_a_sync_computes(model):
    payload = {"id": 7, "name": "Mașină de tuns iarba"}
    now = timezone.now()
    extra = {"status": 1} if model is Order else {}
    model.objects.create(
        account="main",
        emag_id=7,
        content_hash=content_hash(payload),
        synced_at=now,
        first_seen_at=now,
        **extra,
    )
    table = model._meta.db_table

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT content_hash FROM {table}")  # nosec B608  (model's table)
        (stored,) = cursor.fetchone()
        description = connection.introspection.get_table_description(cursor, table)

    assert bytes(stored) == content_hash(payload) and len(bytes(stored)) == 16
    (column,) = [column for column in description if column.name == "content_hash"]
    field_type = connection.introspection.get_field_type(column.type_code, column)
    assert field_type == "BinaryField"


def test_an_offer_is_found_by_any_ean_of_its_own_list_and_no_ean_table_remains():
    wanted = make_offer(ean=["5940000000024", "5940000000031"])
    make_offer(ean=["5940000000017"])
    make_offer(ean=[])

    found = offer_search(offers=Offer.objects.all(), term="5940000000031")

    assert list(found) == [wanted]
    assert list(offer_search(offers=Offer.objects.all(), term="594000000003")) == []
    with connection.cursor() as cursor:
        assert "emag_sync_offerean" not in connection.introspection.table_names(cursor)


def postgresql_storage() -> dict:
    """Return the PostgreSQL-only part of the schema, as the catalogue describes it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
            [list(POSTGRESQL_INDEXES)],
        )
        indexes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT attrelid::regclass::text, attcompression FROM pg_attribute "
            "WHERE attname = 'raw' AND attrelid IN "
            "('emag_sync_offer'::regclass, 'emag_sync_order'::regclass)"
        )
        compression = dict(cursor.fetchall())
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'emag_sync_offer'")
        (options,) = cursor.fetchone()
    return {"indexes": indexes, "compression": compression, "options": options}


def server_has_lz4() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = "
            "'default_toast_compression' AND 'lz4' = ANY(enumvals))"
        )
        return cursor.fetchone()[0]


def assert_postgresql_storage_complete() -> None:
    storage = postgresql_storage()
    assert set(storage["indexes"]) == set(POSTGRESQL_INDEXES)
    for name, method in POSTGRESQL_INDEXES.items():
        definition = storage["indexes"][name].replace("public.", "")
        assert definition.endswith(method), definition
    lz4 = "l" if server_has_lz4() else ""
    assert storage["compression"] == {"emag_sync_offer": lz4, "emag_sync_order": lz4}
    assert storage["options"] == ["toast_tuple_target=1024"]


@pytest.mark.services
def test_postgresql_has_the_search_indexes_lz4_payloads_and_the_offer_toast_target(
    postgres_required,
):
    assert_postgresql_storage_complete()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_postgresql_migration_goes_back_and_forth(postgres_required):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("emag_sync")

    MigrationExecutor(connection).migrate([("emag_sync", "0001_initial")])
    without = postgresql_storage()
    MigrationExecutor(connection).migrate(latest)

    assert without == {
        "indexes": {},
        "compression": {"emag_sync_offer": "", "emag_sync_order": ""},
        "options": None,
    }
    assert_postgresql_storage_complete()
