"""Orders: browse, filter, search and export the order mirror; acknowledge new orders.

Orders change only on eMAG, so their pages are read-only. "May change orders" means "may
acknowledge them": the one write, which goes through a queued acknowledge run.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename
from django.urls import reverse
from django.utils.html import format_html

from emag_sync.accounts import get_accounts
from emag_sync.admin.display import (
    account_tag,
    account_time,
    money,
    order_status_tag,
    order_type_label,
    pretty_json,
)
from emag_sync.admin.exports import CsvExportMixin
from emag_sync.admin.filters import AccountDateRangeFilter, AccountFilter
from emag_sync.admin.pagination import CappedCountMixin
from emag_sync.exports import order_csv_rows
from emag_sync.models import Order, OrderLine, OrderStatus, OrderStatusChange
from emag_sync.selectors import (
    ORDER_COLUMNS_NOT_LISTED,
    order_counts_by_account,
    order_line_counts,
    order_lines_prefetch,
    order_search,
)
from emag_sync.services.sync_runs import SyncAlreadyRunning
from emag_sync.services.sync_triggers import orders_acknowledge_enqueue


class OrderChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        orders = super().get_queryset(request, exclude_parameters)
        return orders.defer(*ORDER_COLUMNS_NOT_LISTED)

    def get_results(self, request):
        super().get_results(request)
        # Counted for the page only, in one query: a COUNT over a join in the list's own
        # query would make PostgreSQL aggregate every order before it can sort out a page.
        page = list(self.result_list)
        counts = order_line_counts(order_ids=[order.pk for order in page])
        for order in page:
            order.line_count = counts.get(order.pk, 0)


class OrderPartInline(admin.TabularInline):
    """A read-only table of an order's parts, visible to whoever may view the order."""

    extra = 0
    can_delete = False
    show_change_link = False

    def _may_view_order(self, request) -> bool:
        opts = Order._meta
        return any(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("view", "change")
        )

    def has_view_permission(self, request, obj=None):
        return self._may_view_order(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(OrderPartInline):
    model = OrderLine
    verbose_name_plural = "lines"
    fields = ["sku", "part_number_key", "name", "quantity", "unit_price", "vat", "line_status"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw", "product_voucher_split")

    @admin.display(description="SKU")
    def sku(self, line):
        label = line.ext_part_number or (f"#{line.product_id}" if line.product_id else "—")
        if line.offer_id is None:
            return label
        url = reverse("admin:emag_sync_offer_change", args=[line.offer_id])
        return format_html('<a href="{}" title="The local offer">{}</a>', url, label)

    @admin.display(description="unit price (no VAT)")
    def unit_price(self, line):
        return money(line.sale_price, line.currency)

    @admin.display(description="VAT")
    def vat(self, line):
        return "—" if line.vat_rate is None else f"{float(line.vat_rate) * 100:g} %"

    @admin.display(description="status")
    def line_status(self, line):
        return "active" if line.status == 1 else "removed"


class OrderStatusChangeInline(OrderPartInline):
    model = OrderStatusChange
    verbose_name_plural = "status history"
    fields = ["from_tag", "to_tag", "changed", "source", "run_link", "recorded_at"]
    readonly_fields = fields

    @admin.display(description="from")
    def from_tag(self, change):
        return "first seen" if change.from_status is None else order_status_tag(change.from_status)

    @admin.display(description="to")
    def to_tag(self, change):
        return order_status_tag(change.to_status)

    @admin.display(description="changed on eMAG")
    def changed(self, change):
        return account_time(change.changed_at, change.order.account)

    @admin.display(description="run")
    def run_link(self, change):
        if change.run_id is None:
            return "—"
        url = reverse("admin:emag_sync_syncrun_change", args=[change.run_id])
        return format_html('<a href="{}">#{}</a>', url, change.run_id)


def _json_display(field_name: str, description: str):
    @admin.display(description=description)
    def show(self, order):
        return pretty_json(getattr(order, field_name))

    return show


def _local_time_display(field_name: str, description: str):
    @admin.display(description=description, ordering=field_name)
    def show(self, order):
        return account_time(getattr(order, field_name), order.account)

    return show


def _money_display(field_name: str, description: str):
    @admin.display(description=description)
    def show(self, order):
        return money(getattr(order, field_name), order.currency)

    return show


@admin.register(Order)
class OrderAdmin(CsvExportMixin, CappedCountMixin, admin.ModelAdmin):
    list_display = [
        "emag_id",
        "account_badge",
        "status_badge",
        "type_label",
        "placed",
        "customer_name",
        "amount",
        "lines",
    ]
    list_filter = [
        AccountFilter,
        "status",
        "type",
        ("date", AccountDateRangeFilter),
    ]
    # The search itself is get_search_results; a non-empty list shows the search box.
    search_fields = ["customer_name"]
    search_help_text = "An eMAG order id (exactly), or words of the customer's name."
    list_per_page = 50
    # Facet counts would COUNT the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-date", "-emag_id"]
    actions = ["acknowledge_new_orders", "export_selected_csv"]
    csv_rows = staticmethod(order_csv_rows)
    inlines = [OrderLineInline, OrderStatusChangeInline]
    fieldsets = [
        (
            "Order",
            {
                "fields": [
                    ("account_badge", "emag_id", "status_badge", "type_label"),
                    ("is_complete", "is_storno", "reason_cancellation"),
                    "observation",
                ]
            },
        ),
        (
            "Dates, on the account's clock (as eMAG shows them)",
            {
                "fields": [
                    ("placed", "modified_local"),
                    ("ship_by", "finalized"),
                ]
            },
        ),
        ("Customer", {"fields": ["customer_name", "customer_json"]}),
        (
            "Amounts",
            {
                "description": "Line prices exclude VAT; shipping and vouchers include it.",
                "fields": [
                    ("lines_net", "lines_vat"),
                    ("shipping", "vouchers_total"),
                    "amount",
                ],
            },
        ),
        (
            "Payment",
            {
                "fields": [
                    ("payment_mode_id", "payment_mode", "detailed_payment_method"),
                    ("payment_status", "cashed_co", "cashed_cod", "refunded_amount"),
                ]
            },
        ),
        (
            "Delivery",
            {"fields": [("delivery_mode", "locker_id", "locker_name"), "details_json"]},
        ),
        (
            "Vouchers and attachments (from eMAG)",
            {
                "classes": ["collapse"],
                "fields": [
                    "vouchers_json",
                    "shipping_tax_voucher_split_json",
                    "attachments_json",
                    "enforced_vendor_courier_accounts_json",
                ],
            },
        ),
        (
            "Sync",
            {"fields": [("synced_at", "first_seen_at", "acknowledged_at"), "content_hash"]},
        ),
        ("Raw payload from eMAG", {"classes": ["collapse"], "fields": ["raw_json"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    class Media:
        css = {"all": ["emag_sync/admin.css"]}

    # --- permissions: orders come from eMAG; changing one means acknowledging it --------

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's acknowledge action needs "change"; an order's own page never saves.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    # --- changelist -----------------------------------------------------------------------

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    def get_search_results(self, request, queryset, search_term):
        """Match an eMAG id exactly, or every word of the customer's name (any case)."""
        if not search_term.strip():
            return queryset, False
        return order_search(orders=queryset, term=search_term), False

    def export_queryset(self, queryset):
        return order_lines_prefetch(orders=queryset)

    @admin.display(description="account", ordering="account")
    def account_badge(self, order):
        return account_tag(order.account)

    @admin.display(description="status", ordering="status")
    def status_badge(self, order):
        return order_status_tag(order.status)

    @admin.display(description="type", ordering="type")
    def type_label(self, order):
        return order_type_label(order.type)

    @admin.display(description="total", ordering="total")
    def amount(self, order):
        return money(order.total, order.currency)

    @admin.display(description="lines")
    def lines(self, order):
        return getattr(order, "line_count", "—")

    placed = _local_time_display("date", "placed")
    modified_local = _local_time_display("modified", "modified on eMAG")
    ship_by = _local_time_display("maximum_date_for_shipment", "ship by")
    finalized = _local_time_display("finalization_date", "finalized")
    lines_net = _money_display("total_lines_net", "lines (no VAT)")
    lines_vat = _money_display("total_lines_vat", "VAT of the lines")
    shipping = _money_display("total_shipping", "shipping")
    vouchers_total = _money_display("total_vouchers", "vouchers")
    customer_json = _json_display("customer", "customer and addresses")
    details_json = _json_display("details", "locker and courier office")
    vouchers_json = _json_display("vouchers", "vouchers")
    shipping_tax_voucher_split_json = _json_display(
        "shipping_tax_voucher_split", "shipping voucher split"
    )
    attachments_json = _json_display("attachments", "attachments")
    enforced_vendor_courier_accounts_json = _json_display(
        "enforced_vendor_courier_accounts", "enforced courier accounts"
    )
    raw_json = _json_display("raw", "payload")

    def changelist_view(self, request, extra_context=None):
        zones = sorted({str(account.timezone) for account in get_accounts().values()})
        extra_context = {
            "subtitle": f"Dates on the accounts' clock ({', '.join(zones)}), as eMAG shows them",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    # --- acknowledging ----------------------------------------------------------------------

    @admin.action(
        description="Acknowledge the new orders of the selected orders' accounts",
        permissions=["change"],
    )
    def acknowledge_new_orders(self, request, queryset):
        """Queue one acknowledge run per account that has a selected order still new here."""
        selected = order_counts_by_account(orders=queryset)
        still_new = order_counts_by_account(
            orders=Order.objects.filter(account__in=list(selected), status=OrderStatus.NEW)
        )
        for account in sorted(selected):
            label = account.upper()
            if not selected[account].new:
                self.message_user(
                    request,
                    f"{label}: none of the selected orders is new, so nothing was queued.",
                    messages.WARNING,
                )
                continue
            try:
                run = orders_acknowledge_enqueue(
                    account=account, triggered_by=request.user.get_username()
                )
            except SyncAlreadyRunning as busy:
                held = f" (run #{busy.run.pk})" if busy.run else ""
                self.message_user(
                    request,
                    f"{label}: an acknowledge run is already queued or running{held}; "
                    "it takes every new order of the account, these included.",
                    messages.WARNING,
                )
                continue
            new = still_new.get(account, selected[account]).new
            self.message_user(
                request,
                f"{label}: acknowledge run #{run.pk} queued for every order of the account "
                f"still new here ({new}, not only the selected ones). Each is read from eMAG "
                "first and acknowledged only if eMAG still shows it new; one cancelled "
                "meanwhile is stored as cancelled instead.",
                messages.SUCCESS,
            )
