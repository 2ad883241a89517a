"""Orders: browse, filter, search and export the order mirror; sync them and acknowledge new ones.

Orders change only on eMAG, so their pages are read-only. "May change orders" means "may
acknowledge them": the one write to eMAG, which goes through a queued acknowledge run.
"Sync orders now" needs what starting any sync needs ("add sync run").
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from emag_sync.accounts import get_accounts
from emag_sync.admin.bases import NoHandWritesMixin
from emag_sync.admin.dashboard import TRIGGER_PERMISSION
from emag_sync.admin.display import (
    READ_WARNINGS_FIELDSET,
    account_column,
    account_time,
    account_time_column,
    copy_column,
    json_column,
    money,
    money_column,
    order_status_tag,
    order_type_label,
    read_warnings_list,
    rendered_column,
    run_column,
)
from emag_sync.admin.exports import CsvExportMixin
from emag_sync.admin.filters import AccountDateRangeFilter, AccountFilter, ReadWarningsFilter
from emag_sync.admin.mirror import EmagMirrorMixin
from emag_sync.admin.pagination import CappedCountMixin
from emag_sync.admin.selection import CheckedSelectionMixin
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
from emag_sync.services.sync_triggers import order_syncs_enqueue, orders_acknowledge_enqueue

# eMAG's delivery modes (docs/emag-api.md), stored as eMAG names them.
DELIVERY_MODE_LABELS = {
    "courier": pgettext_lazy("delivery mode", "courier"),
    "pickup": pgettext_lazy("delivery mode", "pickup"),
}


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


class OrderPartInline(NoHandWritesMixin, admin.TabularInline):
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


class OrderLineInline(OrderPartInline):
    model = OrderLine
    verbose_name_plural = _("lines")
    fields = ("sku", "part_number_key", "name", "quantity", "unit_price", "vat", "line_status")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw", "product_voucher_split")

    @admin.display(description=_("SKU"))
    def sku(self, line):
        label = line.ext_part_number or (f"#{line.product_id}" if line.product_id else "—")
        if line.offer_id is None:
            return label
        url = reverse("admin:emag_sync_offer_change", args=[line.offer_id])
        return format_html('<a href="{}" title="{}">{}</a>', url, gettext("The local offer"), label)

    @admin.display(description=_("unit price (no VAT)"))
    def unit_price(self, line):
        return money(line.sale_price, line.currency)

    @admin.display(description=_("VAT"))
    def vat(self, line):
        return "—" if line.vat_rate is None else f"{float(line.vat_rate) * 100:g} %"

    @admin.display(description=_("status"))
    def line_status(self, line):
        return (
            pgettext("order line", "active")
            if line.status == 1
            else pgettext("order line", "removed")
        )


class OrderStatusChangeInline(OrderPartInline):
    model = OrderStatusChange
    verbose_name_plural = _("status history")
    fields = ("from_tag", "to_tag", "changed", "source", "run_link", "recorded_at")
    readonly_fields = fields

    @admin.display(description=_("from"))
    def from_tag(self, change):
        if change.from_status is None:
            return gettext("first seen")
        return order_status_tag(change.from_status)

    @admin.display(description=_("to"))
    def to_tag(self, change):
        return order_status_tag(change.to_status)

    @admin.display(description=_("changed on eMAG"))
    def changed(self, change):
        return account_time(change.changed_at, change.order.account)

    run_link = run_column("run", _("run"))


@admin.register(Order)
class OrderAdmin(
    EmagMirrorMixin, CheckedSelectionMixin, CsvExportMixin, CappedCountMixin, admin.ModelAdmin
):
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
        ReadWarningsFilter,
    ]
    # The search itself is get_search_results; a non-empty list shows the search box.
    search_fields = ["customer_name"]
    search_help_text = _("An eMAG order id (exactly), or words of the customer's name.")
    list_per_page = 50
    # Facet counts would COUNT the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-date", "-emag_id"]
    actions = ["acknowledge_new_orders", "export_selected_csv"]
    csv_rows = staticmethod(order_csv_rows)
    change_list_template = "admin/emag_sync/order/change_list.html"
    inlines = [OrderLineInline, OrderStatusChangeInline]
    fieldsets = [
        (
            _("Order"),
            {
                "fields": [
                    ("account_badge", "emag_id_copy", "status_badge", "type_label"),
                    ("customer_name", "payment_mode_id", "delivery", "locker"),
                    ("is_complete", "is_storno", "cancellation_reason"),
                    "cancellation_request_json",
                    "observation",
                ]
            },
        ),
        (
            _("Dates, on the account's clock (as eMAG shows them)"),
            {
                "fields": [
                    ("placed", "modified_local"),
                    ("ship_by", "finalized"),
                ]
            },
        ),
        (
            _("Amounts"),
            {
                "description": _("Line prices exclude VAT; shipping and vouchers include it."),
                "fields": [
                    ("lines_net", "lines_vat"),
                    ("shipping", "vouchers_total"),
                    "amount",
                ],
            },
        ),
        (
            _("Payment"),
            {
                "fields": [
                    ("payment_mode", "detailed_payment_method", "payment_status"),
                    ("cashed_card", "cashed_on_delivery", "refunded", "refund_status"),
                ]
            },
        ),
        (
            _("Customer and delivery (from eMAG)"),
            {
                "classes": ["collapse"],
                "fields": [("locker_id", "locker_name"), "details_json", "customer_json"],
            },
        ),
        (
            _("Vouchers and attachments (from eMAG)"),
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
            # One clock on the page: these too are on the account's, like the dates above.
            _("Sync, on the account's clock"),
            {
                "fields": [
                    ("synced_local", "first_seen_local", "acknowledged_local"),
                    "content_hash_hex",
                ]
            },
        ),
        (_("Raw payload from eMAG"), {"classes": ["collapse"], "fields": ["raw_json"]}),
    ]
    readonly_fields = [*flatten_fieldsets(fieldsets), "read_warnings_list"]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.read_warnings:
            return [READ_WARNINGS_FIELDSET, *self.fieldsets]
        return self.fieldsets

    # --- permissions: changing an order means acknowledging it (no add or delete) ------

    def has_change_permission(self, request, obj=None):
        # The list's acknowledge action needs "change"; an order's own page never saves.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    # --- changelist -----------------------------------------------------------------------

    changelist_class = OrderChangeList

    def mirror_search(self, queryset, term):
        """Match an eMAG id exactly, or every word of the customer's name (any case)."""
        return order_search(orders=queryset, term=term)

    def export_queryset(self, queryset):
        return order_lines_prefetch(orders=queryset)

    # Labels start with a capital anyway, so "eMAG id" would read "EMAG id".
    emag_id_copy = copy_column("emag_id", _("Order id on eMAG"))

    account_badge = account_column()

    status_badge = rendered_column("status", _("status"), order_status_tag)
    type_label = rendered_column("type", _("type"), order_type_label)
    amount = money_column("total", _("total"))

    @admin.display(description=_("lines"))
    def lines(self, order):
        return getattr(order, "line_count", "—")

    @admin.display(description=_("cancellation reason"))
    def cancellation_reason(self, order):
        if order.reason_cancellation is None:
            return order.reason_cancellation_name or "—"
        return (
            f"{order.reason_cancellation} · {order.reason_cancellation_name or gettext('unnamed')}"
        )

    @admin.display(description=_("delivery mode"))
    def delivery(self, order):
        return DELIVERY_MODE_LABELS.get(order.delivery_mode, order.delivery_mode) or "—"

    @admin.display(description=_("locker"))
    def locker(self, order):
        if not (order.locker_id or order.locker_name):
            return "—"
        return (
            f"{order.locker_name or gettext('locker')} (#{order.locker_id})"
            if order.locker_id
            else order.locker_name
        )

    read_warnings_list = read_warnings_list

    placed = account_time_column("date", _("placed"))
    modified_local = account_time_column("modified", _("modified on eMAG"))
    ship_by = account_time_column("maximum_date_for_shipment", _("ship by"))
    finalized = account_time_column("finalization_date", _("finalized"))
    synced_local = account_time_column("synced_at", _("synced"))
    first_seen_local = account_time_column("first_seen_at", _("first seen"))
    acknowledged_local = account_time_column("acknowledged_at", _("acknowledged here"))
    cashed_card = money_column("cashed_co", _("cashed by card"))
    cashed_on_delivery = money_column("cashed_cod", _("cashed on delivery"))
    refunded = money_column("refunded_amount", _("refunded"))
    lines_net = money_column("total_lines_net", _("lines (no VAT)"))
    lines_vat = money_column("total_lines_vat", _("VAT of the lines"))
    shipping = money_column("total_shipping", _("shipping"))
    vouchers_total = money_column("total_vouchers", _("vouchers"))
    customer_json = json_column("customer", _("customer and addresses"))
    details_json = json_column("details", _("locker and courier office"))
    vouchers_json = json_column("vouchers", _("vouchers"))
    shipping_tax_voucher_split_json = json_column(
        "shipping_tax_voucher_split", _("shipping voucher split")
    )
    attachments_json = json_column("attachments", _("attachments"))
    enforced_vendor_courier_accounts_json = json_column(
        "enforced_vendor_courier_accounts", _("enforced courier accounts")
    )
    raw_json = json_column("raw", _("payload"))
    cancellation_request_json = json_column("cancellation_request", _("cancellation request"))

    def changelist_view(self, request, extra_context=None):
        zones = sorted({str(account.timezone) for account in get_accounts().values()})
        extra_context = {
            "subtitle": gettext("Dates on the accounts' clock (%(zones)s), as eMAG shows them")
            % {"zones": ", ".join(zones)},
            "can_sync_orders": request.user.has_perm(TRIGGER_PERMISSION),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    # --- syncing ----------------------------------------------------------------------------

    def get_urls(self):
        sync = path(
            "sync/", self.admin_site.admin_view(self.sync_view), name="emag_sync_order_sync"
        )
        return [sync, *super().get_urls()]

    def sync_view(self, request):
        """Queue an incremental order sync of each account, then go back to the list."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(TRIGGER_PERMISSION):
            raise PermissionDenied
        for account in get_accounts():
            # One account at a time, so a busy one does not hold the others back.
            try:
                [run] = order_syncs_enqueue(
                    accounts=[account],
                    mode="incremental",
                    since=None,
                    triggered_by=request.user.get_username(),
                )
            except SyncAlreadyRunning as busy:
                self.message_user(
                    request,
                    _busy_message(
                        gettext("%(account)s: an order sync is already queued or running."),
                        gettext(
                            "%(account)s: an order sync is already queued or running "
                            "(run #%(run)s)."
                        ),
                        account=account.upper(),
                        busy=busy,
                    ),
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    gettext(
                        "%(account)s: order sync queued as run #%(run)s; it reads the orders "
                        "eMAG changed since the last one. Reload the list when it ends."
                    )
                    % {"account": account.upper(), "run": run.pk},
                    messages.SUCCESS,
                )
        return HttpResponseRedirect(reverse("admin:emag_sync_order_changelist"))

    # --- acknowledging ----------------------------------------------------------------------

    @admin.action(
        description=_("Acknowledge the new orders of the selected orders' accounts"),
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
                    gettext(
                        "%(account)s: none of the selected orders is new, so nothing was queued."
                    )
                    % {"account": label},
                    messages.WARNING,
                )
                continue
            try:
                run = orders_acknowledge_enqueue(
                    account=account, triggered_by=request.user.get_username()
                )
            except SyncAlreadyRunning as busy:
                self.message_user(
                    request,
                    _busy_message(
                        gettext(
                            "%(account)s: an acknowledge run is already queued or running; "
                            "it takes every new order of the account, these included."
                        ),
                        gettext(
                            "%(account)s: an acknowledge run is already queued or running "
                            "(run #%(run)s); it takes every new order of the account, these "
                            "included."
                        ),
                        account=label,
                        busy=busy,
                    ),
                    messages.WARNING,
                )
                continue
            new = still_new.get(account, selected[account]).new
            self.message_user(
                request,
                gettext(
                    "%(account)s: acknowledge run #%(run)s queued for every order of the account "
                    "still new here (%(new)s, not only the selected ones). Each is read from "
                    "eMAG first and acknowledged only if eMAG still shows it new; one cancelled "
                    "meanwhile is stored as cancelled instead."
                )
                % {"account": label, "run": run.pk, "new": new},
                messages.SUCCESS,
            )


def _busy_message(
    without_run: str, with_run: str, *, account: str, busy: SyncAlreadyRunning
) -> str:
    """Say that `account` already has such a run, naming it when it is known."""
    if busy.run is None:
        return without_run % {"account": account}
    return with_run % {"account": account, "run": busy.run.pk}
