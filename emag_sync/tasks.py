"""Thin Celery tasks: each loads its arguments and calls one service."""

import logging

from celery import shared_task

from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.sync_runs import SyncAlreadyRunning, SyncRunLost

logger = logging.getLogger(__name__)


@shared_task(name="emag_sync.sync_products", ignore_result=True)
def sync_products_task(
    account: str,
    mode: str = "incremental",
    conflict_strategy: str = "emag_priority",
    max_pages: int | None = None,
    include_inactive: bool = False,
    filters: dict | None = None,
    ids: list[int] | None = None,
    skus: list[str] | None = None,
    run_id: int | None = None,
    triggered_by: str = "schedule",
) -> None:
    """Sync one account's offers; a queued run (run_id) is taken over, else one is claimed."""
    options = OfferSyncOptions(
        mode=mode,
        conflict_strategy=conflict_strategy,
        max_pages=max_pages,
        include_inactive=include_inactive,
        filters=filters or {},
        emag_ids=ids or [],
        skus=skus or [],
    )
    try:
        offer_sync(account=account, options=options, run_id=run_id, triggered_by=triggered_by)
    except (SyncAlreadyRunning, SyncRunLost) as skipped:
        logger.info("Offer sync of %s skipped: %s", account, skipped)
