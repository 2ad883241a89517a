"""Migration 0012 turns stored hex hashes into the bytes a sync computes, and back."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from emag_sync.services.offer_mapping import canonical_json, content_hash

pytestmark = pytest.mark.django_db(transaction=True)

HEX_HASHES = [("emag_sync", "0011_offer_search_columns_first")]
BYTE_HASHES = [("emag_sync", "0012_content_hash_bytes")]
PAYLOAD = {"id": 7, "name": "Mașină de tuns iarba"}


def migrate(targets):
    """Migrate the test database to `targets`; return the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def stored_hashes() -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT content_hash FROM emag_sync_offer UNION ALL "
            "SELECT content_hash FROM emag_sync_order"
        )
        return [value for (value,) in cursor.fetchall()]


@pytest.fixture
def at_hex_hashes():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("emag_sync")
    apps = migrate(HEX_HASHES)
    yield apps
    migrate(latest)


def test_stored_hashes_become_the_16_bytes_a_sync_computes_and_back(at_hex_hashes):
    hex_hash = hashlib.sha256(canonical_json(PAYLOAD)).hexdigest()
    now = timezone.now()
    for model_name, extra in (("Offer", {}), ("Order", {"status": 1})):
        at_hex_hashes.get_model("emag_sync", model_name).objects.create(
            account="main",
            emag_id=7,
            content_hash=hex_hash,
            synced_at=now,
            first_seen_at=now,
            **extra,
        )

    apps = migrate(BYTE_HASHES)

    assert [bytes(value) for value in stored_hashes()] == [content_hash(PAYLOAD)] * 2
    for model_name in ("Offer", "Order"):
        stored = apps.get_model("emag_sync", model_name).objects.get()
        assert bytes(stored.content_hash) == content_hash(PAYLOAD)

    migrate(HEX_HASHES)

    assert stored_hashes() == [hex_hash[:32]] * 2


def test_a_hash_no_sync_wrote_becomes_empty_so_the_next_sync_rewrites_it(at_hex_hashes):
    now = timezone.now()
    at_hex_hashes.get_model("emag_sync", "Offer").objects.create(
        account="main", emag_id=7, content_hash="not a digest", synced_at=now, first_seen_at=now
    )

    migrate(BYTE_HASHES)

    assert [bytes(value) for value in stored_hashes()] == [b""]
