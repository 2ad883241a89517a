"""Migration 0014 finds offers by their own EAN list; going back rebuilds a row per EAN."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from emag_sync.models import Offer
from emag_sync.selectors import offer_search

pytestmark = pytest.mark.django_db(transaction=True)

EAN_ROWS = [("emag_sync", "0013_offer_missing_partial_index")]
EAN_LISTS = [("emag_sync", "0014_offer_eans_in_the_offer")]


def migrate(targets):
    """Migrate the test database to `targets`; return the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def latest():
    nodes = MigrationExecutor(connection).loader.graph.leaf_nodes("emag_sync")
    yield
    migrate(nodes)


def test_going_back_rebuilds_the_ean_rows_and_forward_finds_offers_by_their_lists(latest):
    now = timezone.now()
    stored = {"synced_at": now, "first_seen_at": now, "content_hash": b"x"}
    Offer.objects.create(account="main", emag_id=1, ean=["5940000000017"], **stored)
    Offer.objects.create(account="fbe", emag_id=2, ean=["5940000000024", "5940000000031"], **stored)
    Offer.objects.create(account="main", emag_id=3, ean=[], **stored)

    apps = migrate(EAN_ROWS)

    rows = apps.get_model("emag_sync", "OfferEan").objects.values_list("offer__emag_id", "ean")
    assert sorted(rows) == [(1, "5940000000017"), (2, "5940000000024"), (2, "5940000000031")]

    migrate(EAN_LISTS)

    found = offer_search(offers=Offer.objects.all(), term="5940000000031")
    assert list(found.values_list("emag_id", flat=True)) == [2]
