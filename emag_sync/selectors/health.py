"""Reads of stored health checks and alert incidents."""

from django.db.models import QuerySet

from emag_sync.models import AlertIncident, HealthCheck


def health_check_latest() -> HealthCheck | None:
    """Return the newest stored health check."""
    return HealthCheck.objects.order_by("-checked_at", "-id").first()


def alert_incident_list(*, open_only: bool = False) -> QuerySet[AlertIncident]:
    """Return alert incidents, newest first; only the unresolved ones with `open_only`."""
    incidents = AlertIncident.objects.all()
    if open_only:
        incidents = incidents.filter(resolved_at__isnull=True)
    return incidents.order_by("-opened_at", "-id")
