"""Reads of orders, their lines and status history."""

from django.db.models import Prefetch, QuerySet

from emag_sync.models import Order, OrderLine


def order_list(*, account: str | None = None, with_lines: bool = False) -> QuerySet[Order]:
    """Return orders, optionally of one account, newest first; lines prefetched on request."""
    orders = Order.objects.all()
    if account:
        orders = orders.filter(account=account)
    if with_lines:
        orders = orders.prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
        )
    return orders.order_by("account", "-date", "-emag_id")


def order_list_with_history() -> QuerySet[Order]:
    """Return orders, newest first, with their lines and status changes prefetched."""
    return Order.objects.prefetch_related("lines", "status_changes").order_by("-date", "-emag_id")


def order_get(*, order_id: int) -> Order:
    """Return one order with its lines and status changes, or raise Order.DoesNotExist."""
    return order_list_with_history().get(pk=order_id)
