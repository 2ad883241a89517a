"""CSV exports of a changelist: what the current filters and search select, streamed."""

from collections.abc import Callable, Iterator

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from emag_sync.accounts import get_accounts
from emag_sync.admin.bases import ModelAdminMixin
from emag_sync.exports import csv_lines


class CsvExportMixin(ModelAdminMixin):
    """An "Export CSV" view beside the changelist, and an action for ticked rows.

    A ModelAdmin sets `csv_rows` (a staticmethod from a queryset to rows, header first) and
    may override `export_queryset` to prepare what the rows read.
    """

    csv_rows: Callable[[QuerySet], Iterator[list[str]]]
    change_list_template = "admin/emag_sync/export_change_list.html"

    def export_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_export"

    def get_urls(self):
        export = path(
            "export/", self.admin_site.admin_view(self.export_view), name=self.export_url_name()
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "export_url": reverse(f"admin:{self.export_url_name()}"),
        }
        return super().changelist_view(request, extra_context)

    def export_queryset(self, queryset: QuerySet) -> QuerySet:
        """Return the queryset the rows are read from; by default the one given."""
        return queryset

    def export_view(self, request):
        """Stream the changelist's current selection (filters, search, order) as CSV."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        # The link carries the list's query string; its page number means nothing here.
        request.GET = request.GET.copy()
        request.GET.pop(PAGE_VAR, None)
        try:
            rows = self.get_changelist_instance(request).queryset
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter in the export link.")
        # The file is named after the account filter, never after arbitrary query text.
        account = request.GET.get("account")
        return self._csv_response(rows, label=account if account in get_accounts() else "all")

    @admin.action(
        description=_("Export selected %(verbose_name_plural)s to CSV"), permissions=["view"]
    )
    def export_selected_csv(self, request, queryset):
        return self._csv_response(queryset.order_by(*self.ordering), label="selected")

    def _csv_response(self, queryset: QuerySet, *, label: str) -> StreamingHttpResponse:
        rows = self.csv_rows(self.export_queryset(queryset))
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        name = self.opts.verbose_name_plural
        response["Content-Disposition"] = f'attachment; filename="{name}-{label}-{stamp}.csv"'
        return response
