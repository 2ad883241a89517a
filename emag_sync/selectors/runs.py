"""Reads of sync runs and the eMAG request log."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from emag_sync.models import (
    ACTIVE_STATUSES,
    EmagRequestLog,
    SyncKind,
    SyncRun,
    SyncStatus,
)

FINISHED_STATUSES = (
    SyncStatus.COMPLETED,
    SyncStatus.PARTIAL,
    SyncStatus.FAILED,
    SyncStatus.CANCELLED,
    SyncStatus.INTERRUPTED,
)


def sync_run_list(*, kind: str = SyncKind.OFFERS) -> QuerySet[SyncRun]:
    """Return the runs of a stream, newest first."""
    return SyncRun.objects.filter(kind=kind).order_by("-created_at", "-id")


def sync_run_active_list(*, kind: str = SyncKind.OFFERS) -> QuerySet[SyncRun]:
    """Return the queued and running runs of a stream, oldest first."""
    return SyncRun.objects.filter(kind=kind, status__in=ACTIVE_STATUSES).order_by(
        "created_at", "id"
    )


def sync_run_get(*, run_id: int, kind: str = SyncKind.OFFERS) -> SyncRun:
    """Return one run of a stream, or raise SyncRun.DoesNotExist."""
    return SyncRun.objects.get(pk=run_id, kind=kind)


def sync_run_latest(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the newest run of a stream for an account, whatever its status."""
    return SyncRun.objects.filter(account=account, kind=kind).order_by("-created_at", "-id").first()


def sync_run_last_successful(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the newest completed run of a stream for an account."""
    return (
        SyncRun.objects.filter(account=account, kind=kind, status=SyncStatus.COMPLETED)
        .order_by("-finished_at", "-id")
        .first()
    )


def sync_run_latest_finished(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the newest run of a stream for an account that has ended, whatever its outcome."""
    return (
        SyncRun.objects.filter(account=account, kind=kind, finished_at__isnull=False)
        .exclude(status__in=ACTIVE_STATUSES)
        .order_by("-finished_at", "-id")
        .first()
    )


def sync_run_oldest(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the first run of a stream for an account that is still on record."""
    return SyncRun.objects.filter(account=account, kind=kind).order_by("created_at", "id").first()


def sync_run_board(*, include_ids: Iterable[int] = ()) -> QuerySet[SyncRun]:
    """Return queued and running runs, plus the given ones (a page following them to the end)."""
    return SyncRun.objects.filter(
        Q(status__in=ACTIVE_STATUSES) | Q(pk__in=list(include_ids))
    ).order_by("created_at", "id")


def sync_run_history(*, limit: int = 15) -> QuerySet[SyncRun]:
    """Return the newest runs of every stream and account."""
    return SyncRun.objects.order_by("-created_at", "-id")[:limit]


def sync_run_request_log(*, run: SyncRun, limit: int = 200) -> QuerySet[EmagRequestLog]:
    """Return a run's newest eMAG calls."""
    return EmagRequestLog.objects.filter(run=run).order_by("-created_at", "-id")[:limit]
