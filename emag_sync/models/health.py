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

    checked_at = models.DateTimeField(_("checked at"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=HealthStatus.choices)
    database_ok = models.BooleanField(_("database OK"))
    broker_ok = models.BooleanField(_("broker OK"))
    accounts = models.JSONField(
        _("accounts"),
        default=dict,
        blank=True,
        help_text=_('Per account: {"ok", "latency_ms", "total_products", "message"}.'),
    )
    streams = models.JSONField(
        _("streams"),
        default=list,
        blank=True,
        help_text=_("Per account and stream: last successful sync, its age, latest status."),
    )
    runs_reaped = models.IntegerField(
        _("runs reaped"),
        default=0,
        help_text=_("Runs found dead (cold heartbeat) and marked failed by this check."),
    )
    problems = models.JSONField(
        _("problems"),
        default=list,
        blank=True,
        help_text=_('What is wrong: [{"key", "kind", "message"}].'),
    )
    duration_ms = models.IntegerField(_("duration (ms)"), default=0)

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

    key = models.CharField(_("key"), max_length=128)
    kind = models.CharField(_("kind"), max_length=32, choices=IncidentKind.choices)
    account = models.CharField(_("account"), max_length=32, blank=True)
    stream = models.CharField(_("stream"), max_length=16, blank=True)
    message = models.TextField(_("message"))
    opened_at = models.DateTimeField(_("opened at"))
    last_seen_at = models.DateTimeField(_("last seen"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    notified_at = models.DateTimeField(
        _("notified at"),
        null=True,
        blank=True,
        help_text=_("When the alert went out (e-mail and webhook)."),
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
