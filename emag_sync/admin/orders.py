"""Orders: a read-only view of the order mirror, with lines and status history inline."""

from django.contrib import admin

from emag_sync.models import Order, OrderLine, OrderStatusChange


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = [
        "ext_part_number",
        "part_number_key",
        "name",
        "quantity",
        "sale_price",
        "vat_rate",
        "currency",
        "status",
        "offer",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class OrderStatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    fields = ["from_status", "to_status", "changed_at", "source", "run", "recorded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """A plain, read-only view of the order mirror; orders change only on eMAG."""

    list_display = [
        "emag_id",
        "account",
        "status",
        "type",
        "date",
        "customer_name",
        "total",
        "currency",
        "payment_mode_id",
        "modified",
    ]
    list_filter = ["account", "status", "type"]
    search_fields = ["=emag_id", "customer_name"]
    date_hierarchy = "date"
    inlines = [OrderLineInline, OrderStatusChangeInline]
    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
