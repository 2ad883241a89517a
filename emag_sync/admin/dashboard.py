"""The sync dashboard: account cards (offers, orders, health), Sync form, live progress, history.

Its page polls `progress/` (a small JSON view) to move the progress bars without reloading.
Viewing needs "view sync run"; starting syncs and testing connections need "add sync run";
cancelling needs "change sync run". Every POST goes through Django's CSRF check.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from emag_sync.accounts import get_accounts
from emag_sync.admin.display import (
    STATUS_COLOURS,
    account_colour,
    account_colour_class,
    duration,
)
from emag_sync.admin.forms import SyncRequestForm
from emag_sync.models import SyncKind, SyncMode, SyncRun
from emag_sync.selectors import (
    account_overview,
    alert_incident_list,
    conflict_open_count,
    health_check_latest,
    sync_run_board,
    sync_run_history,
)
from emag_sync.services.connection_test import account_connection_test
from emag_sync.services.sync_runs import SyncAlreadyRunning, sync_run_cancel
from emag_sync.services.sync_triggers import offer_syncs_enqueue

VIEW_PERMISSION = "emag_sync.view_syncrun"
TRIGGER_PERMISSION = "emag_sync.add_syncrun"
CANCEL_PERMISSION = "emag_sync.change_syncrun"
# Changing orders (acknowledging them) includes viewing them, as in Django's admin.
VIEW_ORDERS_PERMISSIONS = ("emag_sync.view_order", "emag_sync.change_order")
# How often the page asks for progress; the issue asks for 3 s or less.
POLL_MILLISECONDS = 1500
HISTORY_SHOWN = 15
# A page tracks the runs it shows until they end; more ids than this is not a real page.
MAX_TRACKED = 50


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def run_progress(run: SyncRun, *, can_cancel: bool) -> dict:
    """Describe a run for the progress board, as the page's script expects it."""
    eta = run.eta_seconds
    return {
        "id": run.pk,
        "account": run.account,
        "account_label": run.account.upper(),
        "colour": account_colour(run.account),
        "colour_class": account_colour_class(run.account),
        "kind": run.get_kind_display(),
        "mode": run.get_mode_display(),
        "status": run.status,
        "status_label": run.get_status_display(),
        "status_colour": STATUS_COLOURS.get(run.status, "#6b7280"),
        "active": run.is_active,
        "percent": run.progress_percent,
        "pages_done": run.pages_done,
        "pages_total": run.pages_total,
        "items_seen": run.items_seen,
        "items_noun": gettext("offers") if run.kind == SyncKind.OFFERS else gettext("orders"),
        "items_per_second": run.items_per_second,
        "eta": duration(eta) if eta is not None else None,
        "elapsed": duration(run.duration_seconds),
        "cancel_requested": run.cancel_requested,
        "can_cancel": can_cancel and run.is_active and not run.cancel_requested,
        "cancel_url": reverse("admin:emag_sync_syncrun_cancel", args=[run.pk]),
        "url": reverse("admin:emag_sync_syncrun_change", args=[run.pk]),
        "last_error": (run.errors[-1].get("message", "") if run.errors else ""),
    }


class SyncDashboard:
    """The dashboard's views, mounted by SyncRunAdmin under its own URLs."""

    def __init__(self, admin_site):
        self.admin_site = admin_site

    def urls(self):
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="emag_sync_dashboard"),
            path(
                "dashboard/progress/",
                view(self.progress_view),
                name="emag_sync_dashboard_progress",
            ),
            path(
                "dashboard/test-connection/<str:account>/",
                view(self.test_connection_view),
                name="emag_sync_test_connection",
            ),
            path("<int:run_id>/cancel/", view(self.cancel_view), name="emag_sync_syncrun_cancel"),
        ]

    # --- pages ----------------------------------------------------------------------------

    def dashboard_view(self, request):
        """Show the dashboard; a POST is the Sync form."""
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        form = SyncRequestForm()
        if request.method == "POST":
            if not request.user.has_perm(TRIGGER_PERMISSION):
                raise PermissionDenied
            form = SyncRequestForm(request.POST)
            if form.is_valid():
                self._enqueue(request, form)
                return HttpResponseRedirect(reverse("admin:emag_sync_dashboard"))
        can_cancel = request.user.has_perm(CANCEL_PERMISSION)
        board = list(sync_run_board())
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Sync dashboard"),
            "subtitle": None,
            "form": form,
            "can_trigger": request.user.has_perm(TRIGGER_PERMISSION),
            "can_cancel": can_cancel,
            "board": [run_progress(run, can_cancel=can_cancel) for run in board],
            "poll_milliseconds": POLL_MILLISECONDS,
            **self._fragments_context(request),
        }
        return TemplateResponse(request, "admin/emag_sync/dashboard.html", context)

    def progress_view(self, request):
        """Return the board as JSON: active runs plus the `track`ed ones, however they ended.

        With `fragments=1` it also returns the cards, the history, the open conflicts and the
        health check, rendered, for the page to swap in when a run started or ended.
        """
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        tracked = [
            int(token)
            for token in request.GET.get("track", "").split(",")[:MAX_TRACKED]
            if token.isdigit()
        ]
        can_cancel = request.user.has_perm(CANCEL_PERMISSION)
        payload = {
            "runs": [
                run_progress(run, can_cancel=can_cancel)
                for run in sync_run_board(include_ids=tracked)
            ]
        }
        if request.GET.get("fragments") == "1":
            context = self._fragments_context(request)
            payload["cards_html"] = render_to_string(
                "admin/emag_sync/dashboard/cards.html", context, request=request
            )
            payload["history_html"] = render_to_string(
                "admin/emag_sync/dashboard/history.html", context, request=request
            )
            payload["conflicts_html"] = render_to_string(
                "admin/emag_sync/dashboard/conflicts.html", context, request=request
            )
            payload["health_html"] = render_to_string(
                "admin/emag_sync/dashboard/health.html", context, request=request
            )
        return JsonResponse(payload)

    def _fragments_context(self, request) -> dict:
        health = health_check_latest()
        incidents = list(alert_incident_list(open_only=True))
        return {
            "accounts": account_overview(
                accounts=list(get_accounts()), health=health, open_incidents=incidents
            ),
            "health": health,
            "open_incident_count": len(incidents),
            # Alerts about no single account (the database, the broker) head the page.
            "general_incidents": [incident for incident in incidents if not incident.account],
            "history": list(sync_run_history(limit=HISTORY_SHOWN)),
            "open_conflicts": conflict_open_count(),
            "can_trigger": request.user.has_perm(TRIGGER_PERMISSION),
            "can_view_orders": any(map(request.user.has_perm, VIEW_ORDERS_PERMISSIONS)),
        }

    # --- actions --------------------------------------------------------------------------

    def _enqueue(self, request, form: SyncRequestForm) -> None:
        options = form.cleaned_data["options"]
        for account in form.account_names():
            try:
                [run] = offer_syncs_enqueue(
                    accounts=[account], options=options, triggered_by=request.user.get_username()
                )
            except SyncAlreadyRunning as busy:
                message = (
                    gettext("%(account)s: a sync is already queued or running (run #%(run)s).")
                    if busy.run
                    else gettext("%(account)s: a sync is already queued or running.")
                )
                messages.warning(
                    request,
                    message % {"account": account.upper(), "run": busy.run.pk if busy.run else ""},
                )
            else:
                messages.success(
                    request,
                    gettext("%(account)s: %(mode)s sync queued as run #%(run)s.")
                    % {
                        "account": account.upper(),
                        "mode": SyncMode(options.mode).label.lower(),
                        "run": run.pk,
                    },
                )

    def test_connection_view(self, request, account: str):
        """Make one authenticated eMAG call for the account and report the outcome."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(TRIGGER_PERMISSION):
            raise PermissionDenied
        if account not in get_accounts():
            return JsonResponse(
                {
                    "ok": False,
                    "message": gettext("Unknown account %(account)r.") % {"account": account},
                },
                status=404,
            )
        check = account_connection_test(account=account)
        if _wants_json(request):
            return JsonResponse(
                {
                    "ok": check.ok,
                    "latency_ms": check.latency_ms,
                    "total_products": check.total_products,
                    "message": check.message,
                }
            )
        level = messages.SUCCESS if check.ok else messages.ERROR
        messages.add_message(request, level, f"{account.upper()}: {check.message}")
        return HttpResponseRedirect(reverse("admin:emag_sync_dashboard"))

    def cancel_view(self, request, run_id: int):
        """Ask a run to stop after its current page (a queued run stops at once)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(CANCEL_PERMISSION):
            raise PermissionDenied
        get_object_or_404(SyncRun, pk=run_id)
        run = sync_run_cancel(run_id=run_id)
        if _wants_json(request):
            return JsonResponse(run_progress(run, can_cancel=True))
        messages.info(
            request,
            gettext("Run #%(run)s: cancel requested; it stops after its current page.")
            % {"run": run.pk},
        )
        next_url = request.POST.get("next")
        if next_url == "run":
            return HttpResponseRedirect(reverse("admin:emag_sync_syncrun_change", args=[run.pk]))
        return HttpResponseRedirect(reverse("admin:emag_sync_dashboard"))
