"""What the health check saw, and the incidents it alerted on."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class HealthStatus(models.TextChoices):
    OK = "ok", _("OK")
    DEGRADED = "degraded", _("Degraded")
    DOWN = "down", _("Down")


class HealthCheck(models.Model):
    """One run of the health check: infrastructure, eMAG reachability and sync freshness."""

    checked_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=HealthStatus.choices)
    database_ok = models.BooleanField()
    broker_ok = models.BooleanField()
    accounts = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per account: {"ok", "latency_ms", "total_products", "message"}.',
    )
    streams = models.JSONField(
        default=list,
        blank=True,
        help_text="Per account and stream: last successful sync, its age, latest status.",
    )
    runs_reaped = models.IntegerField(
        default=0, help_text="Runs found dead (cold heartbeat) and marked failed by this check."
    )
    problems = models.JSONField(
        default=list, blank=True, help_text='What is wrong: [{"key", "kind", "message"}].'
    )
    duration_ms = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("health check")
        verbose_name_plural = _("health checks")
        ordering = ["-checked_at", "-id"]
        get_latest_by = "checked_at"

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {self.status}"


class IncidentKind(models.TextChoices):
    RUN_FAILED = "run_failed", _("Run failed or partial")
    STREAM_STALE = "stream_stale", _("Stream stale")
    ACCOUNT_UNREACHABLE = "account_unreachable", _("Account unreachable")
    SERVICE_DOWN = "service_down", _("Database or broker down")


class AlertIncident(models.Model):
    """One problem from the moment it is first seen until it is gone: alerted once.

    The key names the problem (e.g. `account:main`, `stale:fbe:orders`), so a problem seen
    on every tick stays one incident; at most one incident per key is open at a time.
    """

    key = models.CharField(max_length=128)
    kind = models.CharField(max_length=32, choices=IncidentKind.choices)
    account = models.CharField(max_length=32, blank=True)
    stream = models.CharField(max_length=16, blank=True)
    message = models.TextField()
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the alert went out (e-mail and webhook)."
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # Two health checks racing cannot both open (and alert on) the same problem.
            models.UniqueConstraint(
                fields=["key"], condition=Q(resolved_at__isnull=True), name="uniq_open_incident"
            )
        ]

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"{self.key} ({state})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
