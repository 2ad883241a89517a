"""The offers' "Import" button: django-import-export's preview, then apply the good rows.

django-import-export offers to confirm only a file without errors. A seller's file of
1,000 rows with 3 bad ones should not have to be fixed first: the preview lists the bad
rows with their errors, and confirming applies the others (bad rows are checked again and
skipped). Rows are written by the local-edit service, never by the library's model save.
"""

from django.contrib import messages
from django.utils.translation import ngettext
from import_export.admin import ImportMixin

from emag_sync.imports import IMPORT_FORMATS, OfferLocalValuesResource


class OfferImportMixin(ImportMixin):
    resource_classes = [OfferLocalValuesResource]
    import_formats = IMPORT_FORMATS
    import_template_name = "admin/emag_sync/offer/import.html"
    # OfferAdmin's own changelist template adds the Import link next to Export CSV: the
    # library's would show its tools only to users who may add offers (nobody may).
    import_export_change_list_template = None
    # One log entry per imported row would be 1,000 inserts; the local edits say who and when.
    skip_admin_log = True

    def has_import_permission(self, request):
        # An import changes local values, as the change form does.
        return self.has_change_permission(request)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        if (
            result is not None
            and "confirm_form" not in context
            and not result.has_errors()
            and result.has_validation_errors()
            and len(result.invalid_rows) < result.total_rows
        ):
            context["confirm_form"] = self.create_confirm_form(request, import_form=context["form"])
            context["skipping_invalid_rows"] = len(result.invalid_rows)
        return response

    def process_result(self, result, request):
        if result.has_validation_errors():
            self.message_user(
                request,
                ngettext(
                    "%(count)d row with errors was skipped; the others were applied.",
                    "%(count)d rows with errors were skipped; the others were applied.",
                    len(result.invalid_rows),
                )
                % {"count": len(result.invalid_rows)},
                messages.WARNING,
            )
        return super().process_result(result, request)
