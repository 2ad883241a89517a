"""A sync that fills the offer or order table keeps PostgreSQL's statistics of it current."""

import pytest
from django.db import connection

from emag_sync.models import Offer, SyncStatus
from emag_sync.services import table_statistics
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.order_sync import order_sync
from emag_sync.services.table_statistics import GrowthAnalyzer
from tests.orders_support import ALL_HISTORY_DAYS


@pytest.fixture
def analyses(monkeypatch):
    """Record ANALYZE requests instead of running them, on a table estimated at 0 rows."""
    calls = []
    monkeypatch.setattr(table_statistics, "table_estimated_rows", lambda model: 0)
    monkeypatch.setattr(table_statistics, "table_analyze", calls.append)
    return calls


def test_a_run_analyses_the_table_each_time_it_has_doubled_it(analyses):
    analyzer = GrowthAnalyzer(Offer)

    for rows in (600, 399):
        analyzer.added(rows)
    assert analyses == []  # 999 new rows: too few to matter

    analyzer.added(1)  # 1,000
    analyzer.added(999)  # 1,999: not yet doubled
    assert analyses == [Offer]

    analyzer.added(1)  # 2,000
    analyzer.added(1999)  # 3,999
    analyzer.added(1)  # 4,000
    assert analyses == [Offer, Offer, Offer]


def test_unchanged_pages_never_analyse(analyses):
    analyzer = GrowthAnalyzer(Offer)
    for _ in range(100):
        analyzer.added(0)
    assert analyses == []


def _planner_rows(table: str = "emag_sync_offer") -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_first_sync_into_an_empty_table_leaves_postgresql_statistics_of_it(
    postgres_required, live_sandbox
):
    live_sandbox(accounts=["main"], offers={"main": 2500})
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE emag_sync_offer CASCADE")
    assert _planner_rows() <= 0

    run = offer_sync(account="main", options=OfferSyncOptions())

    assert run.status == SyncStatus.COMPLETED
    # Analysed once 1,000 and again once 2,000 offers were stored, without autovacuum.
    assert _planner_rows() >= 2000


@pytest.mark.django_db(transaction=True)
def test_a_first_order_sync_into_an_empty_table_leaves_postgresql_statistics_of_it(
    postgres_required, live_sandbox, settings
):
    settings.EMAG_ORDERS_INITIAL_DAYS = ALL_HISTORY_DAYS
    live_sandbox(accounts=["main"], offers={"main": 10}, orders={"main": 1200})
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE emag_sync_order CASCADE")
    assert _planner_rows("emag_sync_order") <= 0

    run = order_sync(account="main")

    assert (run.status, run.items_created) == (SyncStatus.COMPLETED, 1200)
    assert _planner_rows("emag_sync_order") >= 1000
