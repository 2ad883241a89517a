"""Change the local price or stock of many offers at once: preview first, then apply.

A bulk change computes each offer's new value from its effective one (the local value where
set, else eMAG's) and checks it with eMAG's rules exactly as a single edit is checked
(`local_edits_check`): a new price outside the effective [min_sale_price, max_sale_price] is
refused for that offer and shown, never clamped. Prices are without VAT, as eMAG's are.
Applying writes through the local-edit service, so every accepted value enters the outbox.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import QuerySet

from emag_sync.models import EditableField, Offer
from emag_sync.selectors import offer_local_values_prefetch
from emag_sync.services.local_edits import (
    MONEY_FIELDS,
    LocalEditError,
    emag_value,
    local_edits_check,
    offers_local_values_write,
)

CENT = Decimal("0.01")
BULK_FIELDS = (
    EditableField.SALE_PRICE,
    EditableField.RECOMMENDED_PRICE,
    EditableField.MIN_SALE_PRICE,
    EditableField.MAX_SALE_PRICE,
    EditableField.STOCK,
)


class BulkOperation(models.TextChoices):
    SET = "set", "Set to"
    RAISE_PERCENT = "raise_percent", "Raise by %"
    LOWER_PERCENT = "lower_percent", "Lower by %"
    RAISE_AMOUNT = "raise_amount", "Raise by an amount"
    LOWER_AMOUNT = "lower_amount", "Lower by an amount"


class BulkChangeError(ValueError):
    """A bulk change that cannot be computed at all (bad operation for the field, bad amount)."""


@dataclass(frozen=True)
class BulkChangeRow:
    """One offer's line of a preview: its effective value now, the new one, or why not."""

    offer: Offer
    old: Any
    new: Any
    error: str = ""
    # The new value as a local edit stores it (checked with eMAG's rules), when it changes.
    stored: Any = None

    @property
    def changes(self) -> bool:
        return not self.error and self.new != self.old


def bulk_change_rows(
    *, offers: QuerySet[Offer], field: str, operation: str, amount: Decimal
) -> list[BulkChangeRow]:
    """Return the preview of a bulk change on offers: old and new value per offer. Writes nothing.

    Two queries whatever the number of offers: the offers and their local values.
    """
    bulk_change_check(field=field, operation=operation, amount=amount)
    # Whole rows and only this prefetch: a changelist's queryset defers the price range
    # (one query per offer later) and prefetches local values under the same name.
    offers = offer_local_values_prefetch(
        offers.defer(None).prefetch_related(None).order_by("account", "emag_id")
    )
    rows = []
    for offer in offers:
        # `overlay_edits` is the prefetch's to_attr (offer_local_values_prefetch).
        local = {edit.field: edit.value for edit in offer.overlay_edits}  # type: ignore[attr-defined]
        rows.append(_row(offer=offer, local=local, field=field, operation=operation, amount=amount))
    return rows


def bulk_change_apply(
    *, offer_ids: Iterable[int], field: str, operation: str, amount: Decimal, user: User | None
) -> tuple[int, list[BulkChangeRow]]:
    """Apply a bulk change to the offers the preview showed; return (changed, refused rows).

    Values are computed again from what the offers hold now (another edit may have landed
    since the preview) and all are written through the local-edit service at once, in one
    transaction: refused offers are left as they are, the others change and are queued for
    the next push.
    """
    with transaction.atomic():
        offers = Offer.objects.filter(pk__in=list(offer_ids)).select_for_update(of=("self",))
        rows = bulk_change_rows(offers=offers, field=field, operation=operation, amount=amount)
        changing = {row.offer: {field: row.stored} for row in rows if row.changes}
        offers_local_values_write(values_by_offer=changing, user=user)
    return len(changing), [row for row in rows if row.error]


def bulk_change_check(*, field: str, operation: str, amount: Decimal) -> None:
    """Raise BulkChangeError if the change cannot apply to any offer (field, operation, amount)."""
    if field not in BULK_FIELDS:
        raise BulkChangeError(f"{field!r} cannot be changed in bulk")
    if operation not in BulkOperation._value2member_map_:
        raise BulkChangeError(f"{operation!r} is not a bulk operation")
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise BulkChangeError("the amount must be a number of 0 or more")
    if field == EditableField.STOCK:
        if operation in (BulkOperation.RAISE_PERCENT, BulkOperation.LOWER_PERCENT):
            raise BulkChangeError("stock is set or raised/lowered by a number of units")
        if amount != amount.to_integral_value():
            raise BulkChangeError("stock is a whole number of units")


def _row(*, offer: Offer, local: dict, field: str, operation: str, amount: Decimal):
    current = local.get(field)
    if current is None:
        current = emag_value(offer, field)
    old = _number(field, current)
    if old is None and operation != BulkOperation.SET:
        return BulkChangeRow(offer, None, None, f"no {field} to change: set it instead")
    new = _new_value(field=field, operation=operation, old=old, amount=amount)
    if field == EditableField.STOCK and new < 0:
        return BulkChangeRow(offer, old, new, "stock cannot go below 0")
    if new == old:
        return BulkChangeRow(offer, old, new)
    try:
        stored = local_edits_check(
            offer=offer,
            edits={field: str(new) if field in MONEY_FIELDS else new},
            current_local={name: value for name, value in local.items() if name in MONEY_FIELDS},
        )[field]
    except LocalEditError as error:
        return BulkChangeRow(offer, old, new, error.message)
    return BulkChangeRow(offer, old, new, stored=stored)


def _number(field: str, value: Any) -> Decimal | int | None:
    if value is None:
        return None
    if field == EditableField.STOCK:
        return int(value)
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def _new_value(*, field: str, operation: str, old, amount: Decimal):
    if operation == BulkOperation.SET:
        new = amount
    elif operation == BulkOperation.RAISE_AMOUNT:
        new = old + amount
    elif operation == BulkOperation.LOWER_AMOUNT:
        new = old - amount
    else:
        factor = 1 + amount / 100 if operation == BulkOperation.RAISE_PERCENT else 1 - amount / 100
        new = Decimal(old) * factor
    if field == EditableField.STOCK:
        return int(new)
    return Decimal(new).quantize(CENT, rounding=ROUND_HALF_UP)
