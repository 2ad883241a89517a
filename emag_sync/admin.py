from django.contrib import admin

from emag_sync.models import Offer, SyncRun


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = [
        "part_number",
        "name",
        "account",
        "sale_price",
        "currency",
        "general_stock",
        "status",
        "validation_status",
        "synced_at",
    ]
    list_filter = ["account", "status", "validation_status", "offer_validation_status"]
    search_fields = ["=emag_id", "part_number", "=part_number_key", "name"]
    list_per_page = 50
    show_full_result_count = False
    ordering = ["account", "emag_id"]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [
            field.name
            for field in self.model._meta.fields
            if field.name not in ("local_notes", "custom_attributes")
        ]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "account",
        "mode",
        "status",
        "pages_done",
        "items_seen",
        "items_created",
        "items_updated",
        "created_at",
    ]
    list_filter = ["kind", "account", "status", "mode"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
