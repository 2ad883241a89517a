"""Sync runs, checkpoints and the eMAG request log: read-only records of what syncs did."""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from emag_sync.admin.bases import ReadOnlyAdmin
from emag_sync.admin.dashboard import CANCEL_PERMISSION, SyncDashboard
from emag_sync.admin.display import (
    account_column,
    duration,
    json_column,
    rendered_column,
    run_column,
    status_tag,
    trigger_label,
)
from emag_sync.admin.filters import AccountFilter
from emag_sync.admin.pagination import CappedCountMixin
from emag_sync.models import EmagRequestLog, SyncRun, SyncState
from emag_sync.selectors import sync_run_request_log

REQUEST_LOG_SHOWN = 200


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "account_badge",
        "kind",
        "mode",
        "status_badge",
        "pages",
        "items_seen",
        "items_created",
        "items_updated",
        "items_unchanged",
        "items_failed",
        "items_warned",
        "items_missing",
        "requests",
        "throttled",
        "run_duration",
        "created_at",
        "triggered_by_label",
    ]
    list_filter = ["kind", AccountFilter, "status", "mode", "conflict_strategy"]
    search_fields = ["id__exact", "triggered_by"]
    search_help_text = _("Run number, or who triggered it.")
    list_per_page = 50
    change_form_template = "admin/emag_sync/syncrun/change_form.html"
    fieldsets = [
        (
            _("Run"),
            {
                "fields": [
                    ("account_badge", "kind", "mode", "conflict_strategy"),
                    ("status_badge", "triggered_by_label", "cancel_requested"),
                    "parameters_json",
                ]
            },
        ),
        (
            _("Progress"),
            {
                "fields": [
                    ("pages_done", "pages_total", "progress", "resumed_from_page"),
                    ("items_total", "items_seen"),
                ]
            },
        ),
        (
            _("Offers written"),
            {
                "fields": [
                    ("items_created", "items_updated", "items_unchanged"),
                    ("items_failed", "items_warned", "items_missing"),
                ]
            },
        ),
        (
            _("eMAG API"),
            {"fields": [("requests", "throttled", "retries"), "pages_second_chance"]},
        ),
        (
            _("Timing"),
            {
                "fields": [
                    ("created_at", "started_at", "finished_at", "heartbeat_at"),
                    ("run_duration", "throughput"),
                ]
            },
        ),
        (_("Errors"), {"fields": ["errors_json"]}),
        (
            _("Warnings"),
            {
                "description": _(
                    "Items stored with a field eMAG sent in a shape that could not be read; "
                    "the field is left empty and the item's payload kept whole."
                ),
                "fields": ["warnings_json"],
            },
        ),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    def get_urls(self):
        # The dashboard lives under the runs it shows: /admin/emag_sync/syncrun/dashboard/.
        return [*SyncDashboard(self.admin_site).urls(), *super().get_urls()]

    account_badge = account_column()

    triggered_by_label = rendered_column("triggered_by", _("triggered by"), trigger_label)
    status_badge = rendered_column("status", _("status"), status_tag)

    @admin.display(description=_("pages"))
    def pages(self, run):
        return f"{run.pages_done}/{run.pages_total}" if run.pages_total else run.pages_done

    @admin.display(description=_("progress"))
    def progress(self, run):
        percent = run.progress_percent
        return "—" if percent is None else f"{percent} %"

    @admin.display(description=_("duration"))
    def run_duration(self, run):
        return duration(run.duration_seconds)

    @admin.display(description=_("items/s"))
    def throughput(self, run):
        return run.items_per_second if run.items_per_second is not None else "—"

    parameters_json = json_column("parameters", _("parameters"))
    errors_json = json_column("errors", _("errors"))
    warnings_json = json_column("warnings", _("warnings (the last ones)"))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                request_log=list(sync_run_request_log(run=obj, limit=REQUEST_LOG_SHOWN)),
                request_log_limit=REQUEST_LOG_SHOWN,
                request_log_url=reverse("admin:emag_sync_emagrequestlog_changelist")
                + f"?run__id__exact={obj.pk}",
                can_cancel=obj.is_active and request.user.has_perm(CANCEL_PERMISSION),
                cancel_url=reverse("admin:emag_sync_syncrun_cancel", args=[obj.pk]),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(EmagRequestLog)
class EmagRequestLogAdmin(CappedCountMixin, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account_badge",
        "call",
        "status_code",
        "ok",
        "latency_ms",
        "attempts",
        "run_link",
        "error_excerpt",
    ]
    # Only filters with known choices: a filter on resource or action would list their
    # values with a DISTINCT over the whole log. The run's page links here by run.
    list_filter = [AccountFilter, "ok"]
    list_per_page = 100

    account_badge = account_column()

    @admin.display(description=_("call"))
    def call(self, log):
        return f"{log.resource}/{log.action}"

    run_link = run_column("run", _("run"))

    @admin.display(description=_("error"))
    def error_excerpt(self, log):
        return log.error[:120] + ("…" if len(log.error) > 120 else "")


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = [
        "account_badge",
        "stream",
        "mode",
        "next_page",
        "cursor",
        "last_complete_pass_at",
        "run_link",
        "updated_at",
    ]
    list_filter = [AccountFilter, "stream", "mode"]

    account_badge = account_column()

    run_link = run_column("run", _("last run"))
