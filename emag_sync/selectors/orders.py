"""Reads of orders, their lines and status history."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from emag_sync.models import Order, OrderLine, OrderStatus
from emag_sync.models.fields import MAX_BIGINT
from emag_sync.selectors.offers import name_words_match

# Wide JSON columns a list of orders never shows: the raw payload above all.
ORDER_COLUMNS_NOT_LISTED = (
    "raw",
    "customer",
    "details",
    "vouchers",
    "attachments",
    "shipping_tax_voucher_split",
    "enforced_vendor_courier_accounts",
)


@dataclass(frozen=True)
class OrderCounts:
    total: int = 0
    new: int = 0


def order_list(*, account: str | None = None, with_lines: bool = False) -> QuerySet[Order]:
    """Return orders, optionally of one account, newest first; lines prefetched on request."""
    orders = Order.objects.all()
    if account:
        orders = orders.filter(account=account)
    if with_lines:
        orders = order_lines_prefetch(orders=orders)
    return orders.order_by("account", "-date", "-emag_id")


def order_lines_prefetch(*, orders: QuerySet[Order]) -> QuerySet[Order]:
    """Return the orders with their lines prefetched, in eMAG's order."""
    return orders.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))


def order_list_with_history() -> QuerySet[Order]:
    """Return orders, newest first, with their lines and status changes prefetched."""
    return Order.objects.prefetch_related("lines", "status_changes").order_by("-date", "-emag_id")


def order_get(*, order_id: int) -> Order:
    """Return one order with its lines and status changes, or raise Order.DoesNotExist."""
    return order_list_with_history().get(pk=order_id)


def order_search(*, orders: QuerySet[Order], term: str) -> QuerySet[Order]:
    """Narrow orders to the one whose eMAG id is the term, or those whose customer has every word.

    A number is an order id only: names hold no digits, and OR-ing a substring match into
    the id lookup would turn an index probe into a scan of every order.
    """
    term = term.strip()
    if not term:
        return orders
    if term.isascii() and term.isdigit():
        return orders.filter(emag_id=int(term)) if int(term) <= MAX_BIGINT else orders.none()
    # As in offer_search: stored folded names against words folded the same way.
    return orders.filter(name_words_match("customer_name_search", term))


def order_line_counts(*, order_ids: list[int]) -> dict[int, int]:
    """Return how many lines each of the given orders has, in one query."""
    rows = (
        OrderLine.objects.filter(order_id__in=order_ids)
        .order_by()
        .values_list("order_id")
        .annotate(lines=Count("pk"))
    )
    return dict(rows)


def order_counts_by_account(*, orders: QuerySet[Order]) -> dict[str, OrderCounts]:
    """Return, per account, how many of the given orders there are and how many are new."""
    rows = (
        orders.order_by()
        .values("account")
        .annotate(total=Count("pk"), new=Count("pk", filter=Q(status=OrderStatus.NEW)))
    )
    return {row["account"]: OrderCounts(total=row["total"], new=row["new"]) for row in rows}
