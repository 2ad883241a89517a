"""Turn pushes into eMAG requests: light offer/save items, in batches of at most 50. No I/O.

The outbox keeps values in the local-edit JSON form (prices as 4-decimal strings, without
VAT); eMAG's light offer/save takes stock and handling time per warehouse, so each goes to
the warehouse of the offer's own entry (docs/emag-api.md §3.4, §3.5).
"""

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from emag_sync.client import MAX_OFFERS_PER_SAVE, OfferUpdate
from emag_sync.models import EditableField

T = TypeVar("T")


class Sendable(Protocol):
    """What a push needs to become an item: see push_outbox.ClaimedPush."""

    emag_id: int
    offer_id: int | None
    stock_warehouse: int
    handling_warehouse: int

    @property
    def values(self) -> dict[str, Any]: ...


def offer_update(push: Sendable) -> OfferUpdate:
    """Return the light offer/save item carrying a push's values."""
    values = push.values
    unknown = set(values) - {
        EditableField.SALE_PRICE,
        EditableField.RECOMMENDED_PRICE,
        EditableField.MIN_SALE_PRICE,
        EditableField.MAX_SALE_PRICE,
        EditableField.STOCK,
        EditableField.HANDLING_TIME,
        EditableField.VAT_ID,
        EditableField.STATUS,
    }
    if unknown:
        raise ValueError(f"offer {push.emag_id}: not pushable: {sorted(unknown)}")

    def money(field: str) -> Decimal | None:
        return Decimal(str(values[field])) if field in values else None

    return OfferUpdate(
        emag_id=push.emag_id,
        offer_id=push.offer_id,
        sale_price=money(EditableField.SALE_PRICE),
        recommended_price=money(EditableField.RECOMMENDED_PRICE),
        min_sale_price=money(EditableField.MIN_SALE_PRICE),
        max_sale_price=money(EditableField.MAX_SALE_PRICE),
        stock=(
            ((push.stock_warehouse, int(values[EditableField.STOCK])),)
            if EditableField.STOCK in values
            else None
        ),
        handling_time=(
            ((push.handling_warehouse, int(values[EditableField.HANDLING_TIME])),)
            if EditableField.HANDLING_TIME in values
            else None
        ),
        vat_id=int(values[EditableField.VAT_ID]) if EditableField.VAT_ID in values else None,
        status=int(values[EditableField.STATUS]) if EditableField.STATUS in values else None,
    )


def batches(items: Sequence[T], size: int = MAX_OFFERS_PER_SAVE) -> Iterator[list[T]]:
    """Yield items in consecutive batches of at most `size` (eMAG's 50 per save)."""
    if not 1 <= size <= MAX_OFFERS_PER_SAVE:
        raise ValueError(f"a batch holds 1 to {MAX_OFFERS_PER_SAVE} offers, got {size}")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def request_preview(api_url: str, pushes: Sequence[Sendable]) -> list[dict[str, Any]]:
    """Return the requests a push of these would send, as method, URL and JSON body."""
    return [
        {
            "method": "POST",
            "url": f"{api_url}/offer/save",
            "body": [offer_update(push).as_payload() for push in batch],
        }
        for batch in batches(list(pushes))
    ]


def request_preview_text(requests: list[dict[str, Any]]) -> str:
    """Render previewed requests one per block, as `--dry-run` prints them."""
    return "\n".join(
        f"{request['method']} {request['url']}\n{json.dumps(request['body'], indent=2)}"
        for request in requests
    )
