"""The bookkeeping of syncs: runs, checkpoints, the eMAG request log and rate-limit state."""

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.db.models.expressions import Combinable
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SyncKind(models.TextChoices):
    OFFERS = "offers", _("Offers")
    ORDERS = "orders", _("Orders")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    PUSH = "push", _("Push")


class SyncMode(models.TextChoices):
    FULL = "full", _("Full")
    INCREMENTAL = "incremental", _("Incremental")
    SELECTIVE = "selective", _("Selective")


class ConflictStrategy(models.TextChoices):
    EMAG_PRIORITY = "emag_priority", _("eMAG priority")
    LOCAL_PRIORITY = "local_priority", _("Local priority")
    NEWEST_WINS = "newest_wins", _("Newest wins")
    MANUAL = "manual", _("Manual review")


class SyncStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    PARTIAL = "partial", _("Partial")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    # Stopped by a worker's shutdown after its last committed page; the next start resumes it.
    INTERRUPTED = "interrupted", _("Interrupted")


ACTIVE_STATUSES = (SyncStatus.QUEUED, SyncStatus.RUNNING)


class SyncRun(models.Model):
    """One run of one stream for one account: committed and visible while it runs."""

    kind = models.CharField(_("kind"), max_length=16, choices=SyncKind.choices)
    account = models.CharField(_("account"), max_length=32)
    mode = models.CharField(
        _("mode"), max_length=16, choices=SyncMode.choices, default=SyncMode.FULL
    )
    conflict_strategy = models.CharField(
        _("conflict strategy"),
        max_length=16,
        choices=ConflictStrategy.choices,
        default=ConflictStrategy.EMAG_PRIORITY,
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SyncStatus.choices, default=SyncStatus.QUEUED
    )
    triggered_by = models.CharField(
        _("triggered by"), max_length=150, blank=True, help_text=_("cli, schedule or a user.")
    )

    pages_total = models.IntegerField(_("pages in total"), null=True, blank=True)
    pages_done = models.IntegerField(_("pages done"), default=0)
    items_total = models.IntegerField(_("items in total"), null=True, blank=True)
    items_seen = models.IntegerField(_("items seen"), default=0)
    items_created = models.IntegerField(_("items created"), default=0)
    items_updated = models.IntegerField(_("items updated"), default=0)
    items_unchanged = models.IntegerField(_("items unchanged"), default=0)
    items_failed = models.IntegerField(_("items failed"), default=0)
    items_missing = models.IntegerField(_("items missing"), default=0)
    items_warned = models.IntegerField(
        _("items warned"),
        default=0,
        help_text=_("Items stored with a field that could not be read (left empty)."),
    )
    # Push runs: offers sent to eMAG and what became of them.
    items_sent = models.IntegerField(
        _("items sent"), default=0, help_text=_("Push: offers sent (each send counts).")
    )
    items_applied = models.IntegerField(
        _("items applied"), default=0, help_text=_("Push: offers eMAG accepted.")
    )
    items_rejected = models.IntegerField(
        _("items rejected"), default=0, help_text=_("Push: offers eMAG refused.")
    )
    items_uncertain = models.IntegerField(
        _("items uncertain"),
        default=0,
        help_text=_("Push: sends whose outcome was unknown (then read back)."),
    )
    requests = models.IntegerField(_("requests"), default=0)
    throttled = models.IntegerField(_("throttled"), default=0, help_text=_("429 responses."))
    retries = models.IntegerField(_("retries"), default=0)
    pages_second_chance = models.IntegerField(
        _("pages read again"),
        default=0,
        help_text=_("Pages that failed after their retries and were read again."),
    )
    errors = models.JSONField(_("errors"), default=list, blank=True)
    warnings = models.JSONField(
        _("warnings"),
        default=list,
        blank=True,
        help_text=_("What could not be read, per item; items still stored."),
    )
    resumed_from_page = models.IntegerField(_("resumed from page"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        permissions = [
            # Starting and cancelling syncs spends the account's eMAG request budget, so it
            # is granted on its own rather than implied by the model's change permission.
            ("run_sync", "Can start, cancel and test eMAG syncs"),
        ]
        constraints = [
            # The single-flight claim: one queued-or-running run per (account, stream).
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="uniq_active_sync_per_account_kind",
            )
        ]
        indexes = [
            models.Index(
                fields=["account", "kind", "-created_at"], name="syncrun_account_kind_created"
            ),
            models.Index(fields=["status"], name="syncrun_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.account} {self.mode} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or self.heartbeat_at or self.started_at
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def items_per_second(self) -> float | None:
        duration = self.duration_seconds
        if not duration:
            return None
        return round(self.items_seen / duration, 1)

    @property
    def progress_percent(self) -> int | None:
        if not self.pages_total:
            return 100 if self.status == SyncStatus.COMPLETED else None
        return min(100, round(100 * self.pages_done / self.pages_total))

    @property
    def eta_seconds(self) -> float | None:
        if not self.is_active or not self.pages_total or not self.pages_done:
            return None
        duration = self.duration_seconds or 0.0
        remaining = max(0, self.pages_total - self.pages_done)
        return round(duration / self.pages_done * remaining, 1)


def sync_run_link(
    related_name: str, verbose_name: "StrOrPromise | None" = None
) -> "models.ForeignKey[SyncRun | Combinable | None, SyncRun | None]":
    """Return a link to the run that wrote a row: emptied, not cascaded, when the run goes."""
    return models.ForeignKey(
        SyncRun,
        null=True,
        blank=True,
        verbose_name=verbose_name or _("run"),
        on_delete=models.SET_NULL,
        related_name=related_name,
    )


class SyncState(models.Model):
    """The checkpoint of one stream: where the next run of (account, stream, mode) starts.

    It is written in the same transaction as the page whose rows it covers, so a crash
    can neither lose nor skip data.
    """

    account = models.CharField(_("account"), max_length=32)
    stream = models.CharField(_("stream"), max_length=16, choices=SyncKind.choices)
    mode = models.CharField(_("mode"), max_length=16, choices=SyncMode.choices)
    next_page = models.IntegerField(_("next page"), default=1)
    cursor = models.DateTimeField(
        _("cursor"), null=True, blank=True, help_text=_("Order streams: modified cursor.")
    )
    run = sync_run_link("+")
    last_complete_pass_at = models.DateTimeField(_("last complete pass"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sync checkpoint")
        verbose_name_plural = _("sync checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["account", "stream", "mode"], name="uniq_sync_state")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.stream} {self.mode}: page {self.next_page}"


class EmagRequestLog(models.Model):
    """One call to eMAG: kept 30 days, as eMAG asks of integrators. Never holds a secret."""

    account = models.CharField(_("account"), max_length=32)
    resource = models.CharField(_("resource"), max_length=64)
    action = models.CharField(_("action"), max_length=64)
    status_code = models.IntegerField(_("HTTP status"), null=True, blank=True)
    ok = models.BooleanField(_("ok"), default=True)
    latency_ms = models.IntegerField(_("latency (ms)"), default=0)
    attempts = models.SmallIntegerField(_("attempts"), default=1)
    error = models.TextField(
        _("error"), blank=True, help_text=_("A redacted excerpt, on errors only.")
    )
    run = sync_run_link("request_logs")
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("eMAG request")
        verbose_name_plural = _("eMAG requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account} {self.resource}/{self.action} {self.status_code}"


class RateLimitBucket(models.Model):
    """The database-backed rate limiter's state, used when no Redis is configured."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    recent = models.JSONField(
        _("recent calls"), default=list, help_text=_("Monotonic-free epoch times of recent calls.")
    )

    class Meta:
        verbose_name = _("rate-limit state")
        verbose_name_plural = _("rate-limit states")

    def __str__(self) -> str:
        return self.key
