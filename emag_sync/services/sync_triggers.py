"""Queue a sync for a worker: claim the run now, so a second trigger is told at once."""

from django.db import transaction

from emag_sync.models import SyncKind, SyncRun
from emag_sync.services.offer_sync import OfferSyncOptions
from emag_sync.services.sync_runs import sync_run_claim


def offer_sync_enqueue(*, account: str, options: OfferSyncOptions, triggered_by: str) -> SyncRun:
    """Claim a queued offer run and hand it to a Celery worker once the claim is committed.

    Raises SyncOptionsError for bad options and SyncAlreadyRunning when the account's
    offer stream is busy; either way nothing is queued.
    """
    from emag_sync.tasks import sync_products_task

    options = options.validate()
    run = sync_run_claim(
        account=account,
        kind=SyncKind.OFFERS,
        mode=options.mode,
        conflict_strategy=options.conflict_strategy,
        parameters=options.as_parameters(),
        triggered_by=triggered_by,
        queued=True,
    )
    # A worker that picked the task up before the commit would not find the queued run.
    transaction.on_commit(
        lambda: sync_products_task.delay(
            account=account,
            mode=options.mode,
            conflict_strategy=options.conflict_strategy,
            max_pages=options.max_pages,
            include_inactive=options.include_inactive,
            filters=options.filters,
            ids=options.emag_ids,
            skus=options.skus,
            run_id=run.pk,
            triggered_by=triggered_by,
        )
    )
    return run
