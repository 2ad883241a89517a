"""Helpers of the push tests: offers as a sync stores them, and sync pages."""

from django.core.cache import cache
from django.utils import timezone

from emag_sync.models import Offer, SyncKind
from emag_sync.services.offer_pages import offer_page_write
from emag_sync.services.sync_runs import sync_run_claim, sync_run_finish


def offer_payload(emag_id: int = 1, **overrides) -> dict:
    """Return a product_offer/read item with a price range and one warehouse."""
    payload = {
        "id": emag_id,
        "part_number": f"SKU-{emag_id}",
        "sale_price": "1200.0000",
        "recommended_price": "1400.0000",
        "min_sale_price": "1003.0000",
        "max_sale_price": "1500.0000",
        "general_stock": 5,
        "stock": [{"warehouse_id": 1, "value": 5}],
        "handling_time": [{"warehouse_id": 1, "value": 1}],
        "vat_id": 1,
        "status": 1,
        "offer_details": {"id": 90_000_000 + emag_id},
    }
    payload.update(overrides)
    return payload


def sync_page(payloads: list[dict], *, account: str = "main", strategy: str = "emag_priority"):
    """Write one page of payloads as an offer sync under a strategy; return the run."""
    run = sync_run_claim(account=account, kind=SyncKind.OFFERS, conflict_strategy=strategy)
    offer_page_write(
        run=run, account=account, payloads=payloads, fetched_at=timezone.now(), strategy=strategy
    )
    sync_run_finish(run=run, status="completed")
    return run


def stored_offer(emag_id: int = 1, *, account: str = "main", **overrides) -> Offer:
    """Store an offer as a sync would and return it."""
    sync_page([offer_payload(emag_id, **overrides)], account=account)
    return Offer.objects.get(account=account, emag_id=emag_id)


def remember_vat_ids(account: str, ids) -> None:
    """Put eMAG's VAT list of an account in the cache, as a vat/read would."""
    cache.set(f"emag:vat-ids:{account}", sorted(ids), 60)
