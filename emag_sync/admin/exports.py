"""The offer list's CSV export: what the current filters and search select, streamed."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from emag_sync.exports import csv_lines, offer_csv_rows


class OfferExportMixin:
    """An "Export CSV" view beside the changelist, and an action for ticked offers."""

    def get_urls(self):
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="emag_sync_offer_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """Stream the changelist's current selection (filters, search, order) as CSV."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        # The link carries the list's query string; its page number means nothing here.
        request.GET = request.GET.copy()
        request.GET.pop(PAGE_VAR, None)
        try:
            offers = self.get_changelist_instance(request).queryset
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter in the export link.")
        return self._csv_response(offers, label=request.GET.get("account") or "all")

    @admin.action(description="Export selected offers to CSV", permissions=["view"])
    def export_selected_csv(self, request, queryset):
        return self._csv_response(queryset.order_by(*self.ordering), label="selected")

    def _csv_response(self, offers, *, label: str):
        response = StreamingHttpResponse(
            csv_lines(offer_csv_rows(offers)), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="offers-{label}-{stamp}.csv"'
        return response
