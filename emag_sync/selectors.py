"""Reads used by the admin, the API, the commands and the tasks."""

from django.db.models import Prefetch, QuerySet

from emag_sync.models import (
    ACTIVE_STATUSES,
    AlertIncident,
    HealthCheck,
    Offer,
    Order,
    OrderLine,
    SyncKind,
    SyncRun,
    SyncStatus,
)


def offer_list(*, account: str | None = None) -> QuerySet[Offer]:
    """Return offers, optionally of one account, in a stable order."""
    offers = Offer.objects.all()
    if account:
        offers = offers.filter(account=account)
    return offers.order_by("account", "emag_id")


def order_list(*, account: str | None = None, with_lines: bool = False) -> QuerySet[Order]:
    """Return orders, optionally of one account, newest first; lines prefetched on request."""
    orders = Order.objects.all()
    if account:
        orders = orders.filter(account=account)
    if with_lines:
        orders = orders.prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
        )
    return orders.order_by("account", "-date", "-emag_id")


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


def health_check_latest() -> HealthCheck | None:
    """Return the newest stored health check."""
    return HealthCheck.objects.order_by("-checked_at", "-id").first()


def alert_incident_list(*, open_only: bool = False) -> QuerySet[AlertIncident]:
    """Return alert incidents, newest first; only the unresolved ones with `open_only`."""
    incidents = AlertIncident.objects.all()
    if open_only:
        incidents = incidents.filter(resolved_at__isnull=True)
    return incidents.order_by("-opened_at", "-id")
