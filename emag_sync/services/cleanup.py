"""Delete bookkeeping past its retention, in batches: runs, request logs, change history.

Sync runs, the eMAG request log, health checks and resolved incidents are kept
SYNC_LOG_RETENTION_DAYS (30 by default, as eMAG asks of integrators); the offer change
history SYNC_CHANGE_RETENTION_DAYS (365). Every foreign key to a run is SET_NULL, so deleting
a run never takes an offer, an order, a conflict or a change with it. Runs still queued or
running are never deleted, whatever their age.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from emag_sync.models import (
    ACTIVE_STATUSES,
    AlertIncident,
    EmagRequestLog,
    HealthCheck,
    OfferChange,
    SyncRun,
)

logger = logging.getLogger(__name__)

# Each batch is one short DELETE (plus one UPDATE per table pointing at runs), so a large
# backlog never holds locks for long or loads many rows into memory, and a crash mid-way
# keeps what was already deleted.
CLEANUP_BATCH_SIZE = 1000


@dataclass(frozen=True)
class CleanupResult:
    sync_runs: int
    request_logs: int
    offer_changes: int
    health_checks: int
    alert_incidents: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sync_history_cleanup(
    *, now: datetime | None = None, batch_size: int = CLEANUP_BATCH_SIZE
) -> CleanupResult:
    """Delete what is older than its retention and return how many rows of each went."""
    now = now or timezone.now()
    log_cutoff = now - timedelta(days=settings.SYNC_LOG_RETENTION_DAYS)
    change_cutoff = now - timedelta(days=settings.SYNC_CHANGE_RETENTION_DAYS)
    result = CleanupResult(
        # Logs first: fewer rows left pointing at the runs deleted next.
        request_logs=_delete_in_batches(
            EmagRequestLog.objects.filter(created_at__lt=log_cutoff), batch_size
        ),
        sync_runs=_delete_in_batches(
            SyncRun.objects.filter(created_at__lt=log_cutoff).exclude(status__in=ACTIVE_STATUSES),
            batch_size,
        ),
        offer_changes=_delete_in_batches(
            OfferChange.objects.filter(changed_at__lt=change_cutoff), batch_size
        ),
        health_checks=_delete_in_batches(
            HealthCheck.objects.filter(checked_at__lt=log_cutoff), batch_size
        ),
        alert_incidents=_delete_in_batches(
            AlertIncident.objects.filter(resolved_at__lt=log_cutoff), batch_size
        ),
    )
    logger.info("Cleanup deleted %s", result.as_dict())
    return result


def _delete_in_batches(queryset: QuerySet, batch_size: int) -> int:
    """Delete the rows of a queryset a batch at a time; return how many were deleted."""
    model = queryset.model
    deleted = 0
    while True:
        batch = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        _, per_model = model.objects.filter(pk__in=batch).delete()
        deleted += per_model.get(model._meta.label, 0)
