"""Cleanup deletes bookkeeping past its retention, in batches, and never anything else."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from emag_sync.models import (
    AlertIncident,
    Conflict,
    EmagRequestLog,
    HealthCheck,
    Offer,
    OfferChange,
    SyncRun,
    SyncState,
    SyncStatus,
)
from emag_sync.services.cleanup import sync_history_cleanup
from tests.factories import make_health_check, make_run

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float):
    return NOW - timedelta(days=days)


def make_old_run(*, age_days: float, status=SyncStatus.COMPLETED, account="main") -> SyncRun:
    """Store a run created (and, unless still active, finished) `age_days` ago."""
    run = make_run(account, status=status)
    moment = days_ago(age_days)
    SyncRun.objects.filter(pk=run.pk).update(
        created_at=moment, finished_at=moment if run.finished_at else None
    )
    run.refresh_from_db()
    return run


def make_log(*, age_days: float, run: SyncRun | None = None) -> EmagRequestLog:
    return EmagRequestLog.objects.create(
        account="main",
        resource="product_offer",
        action="read",
        run=run,
        created_at=days_ago(age_days),
    )


@pytest.fixture
def offer() -> Offer:
    return Offer.objects.create(
        account="main", emag_id=1, content_hash=b"x", synced_at=NOW, first_seen_at=NOW
    )


def test_runs_and_request_logs_older_than_their_retention_are_deleted(settings):
    settings.SYNC_LOG_RETENTION_DAYS = 30
    old_run, kept_run = make_old_run(age_days=31), make_old_run(age_days=29)
    make_log(age_days=31, run=old_run)
    kept_log = make_log(age_days=29, run=kept_run)

    result = sync_history_cleanup(now=NOW)

    assert (result.sync_runs, result.request_logs) == (1, 1)
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [kept_run.pk]
    assert list(EmagRequestLog.objects.values_list("pk", flat=True)) == [kept_log.pk]


def test_change_history_has_its_own_longer_retention(settings, offer):
    settings.SYNC_LOG_RETENTION_DAYS = 30
    settings.SYNC_CHANGE_RETENTION_DAYS = 365
    kept = OfferChange.objects.create(offer=offer, field="stock", changed_at=days_ago(364))
    OfferChange.objects.create(offer=offer, field="stock", changed_at=days_ago(366))

    result = sync_history_cleanup(now=NOW)

    assert result.offer_changes == 1
    assert list(OfferChange.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_a_run_keeps_what_points_at_it(offer):
    old_run = make_old_run(age_days=60)
    change = OfferChange.objects.create(
        offer=offer, field="sale_price", run=old_run, changed_at=days_ago(1)
    )
    conflict = Conflict.objects.create(
        offer=offer, field="sale_price", detected_in=old_run, detected_at=days_ago(60)
    )
    state = SyncState.objects.create(
        account="main", stream="offers", mode="full", next_page=4, run=old_run
    )
    recent_log = make_log(age_days=1, run=old_run)

    sync_history_cleanup(now=NOW)

    assert not SyncRun.objects.exists()
    for row in (change, conflict, state, recent_log):
        row.refresh_from_db()
    assert change.run is None and conflict.detected_in is None
    assert (state.run, state.next_page) == (None, 4)
    assert recent_log.run is None
    assert Offer.objects.filter(pk=offer.pk).exists()


def test_a_run_still_queued_or_running_is_never_deleted_however_old():
    running = make_old_run(age_days=90, status=SyncStatus.RUNNING)
    queued = make_old_run(age_days=90, status=SyncStatus.QUEUED, account="fbe")

    sync_history_cleanup(now=NOW)

    assert set(SyncRun.objects.values_list("pk", flat=True)) == {running.pk, queued.pk}


def test_a_backlog_is_deleted_in_batches_until_none_is_left():
    EmagRequestLog.objects.bulk_create(
        EmagRequestLog(
            account="main", resource="product_offer", action="read", created_at=days_ago(40)
        )
        for _ in range(25)
    )

    with CaptureQueriesContext(connection) as queries:
        result = sync_history_cleanup(now=NOW, batch_size=10)

    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "emag_sync_emag')]
    assert result.request_logs == 25
    assert len(deletes) == 3  # 10 + 10 + 5
    assert not EmagRequestLog.objects.exists()


def test_old_health_checks_and_resolved_incidents_go_but_open_incidents_stay(settings):
    settings.SYNC_LOG_RETENTION_DAYS = 30
    make_health_check(checked_at=days_ago(31))
    recent = make_health_check(checked_at=days_ago(1))
    common = {"kind": "stream_stale", "message": "stale", "last_seen_at": days_ago(40)}
    AlertIncident.objects.create(
        key="stale:main:offers", opened_at=days_ago(45), resolved_at=days_ago(40), **common
    )
    still_open = AlertIncident.objects.create(
        key="stale:fbe:offers", opened_at=days_ago(45), **common
    )

    result = sync_history_cleanup(now=NOW)

    assert (result.health_checks, result.alert_incidents) == (1, 1)
    assert list(HealthCheck.objects.values_list("pk", flat=True)) == [recent.pk]
    assert list(AlertIncident.objects.values_list("pk", flat=True)) == [still_open.pk]
