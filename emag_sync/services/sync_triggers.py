"""Start syncs on request (the API, the admin): run them now, or queue them for the workers.

A request for several accounts claims every account's run in one transaction, so it starts
all of them or, when one account's stream is busy, none, and leaves nothing behind. Claimed
runs are `queued`; the sync that takes one over (here or in a worker) moves it to running.
"""

import copy
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from functools import partial

from django.db import connections, transaction

from emag_sync.models import (
    ConflictStrategy,
    SyncKind,
    SyncMode,
    SyncRun,
    SyncState,
    SyncStatus,
)
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.sync_runs import (
    SyncAlreadyRunning,
    SyncRunLost,
    sync_run_claim,
    sync_run_finish,
    sync_run_task_id,
)

logger = logging.getLogger(__name__)

# eMAG's status of a new order: the ones an acknowledge run moves on (docs/emag-api.md §5.1).
NEW_ORDER_STATUS = 1


def sync_runs_claim(
    *,
    accounts: list[str],
    kind: str,
    mode: str,
    conflict_strategy: str,
    parameters: dict,
    triggered_by: str,
) -> list[SyncRun]:
    """Claim a queued run of a stream for every account, or none; raise SyncAlreadyRunning."""
    with transaction.atomic():
        return [
            sync_run_claim(
                account=account,
                kind=kind,
                mode=mode,
                conflict_strategy=conflict_strategy,
                parameters=parameters,
                triggered_by=triggered_by,
                queued=True,
            )
            for account in accounts
        ]


def offer_syncs_run(
    *, accounts: list[str], options: OfferSyncOptions, triggered_by: str
) -> list[SyncRun]:
    """Sync the accounts' offers now, side by side, and return their finished runs.

    Raises SyncOptionsError for bad options and SyncAlreadyRunning when an account is busy.
    A run that fails is returned failed, with its error, rather than raised.
    """
    options.validate()
    runs = _claim_offer_runs(accounts=accounts, options=options, triggered_by=triggered_by)
    if len(runs) == 1:
        return [_offer_sync_claimed(runs[0], options, triggered_by)]

    def in_thread(run: SyncRun) -> SyncRun:
        try:
            return _offer_sync_claimed(run, options, triggered_by)
        finally:
            connections.close_all()

    # Each account has its own eMAG request budget, so accounts sync in parallel.
    with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="api-sync") as pool:
        return list(pool.map(in_thread, runs))


def offer_syncs_enqueue(
    *, accounts: list[str], options: OfferSyncOptions, triggered_by: str
) -> list[SyncRun]:
    """Queue a sync of each account's offers for the workers; return the queued runs.

    Tasks are sent only once the runs are committed, so a worker always finds its run.
    """
    from emag_sync.tasks import sync_products_task

    options.validate()
    with transaction.atomic():
        runs = _claim_offer_runs(accounts=accounts, options=options, triggered_by=triggered_by)
        for run in runs:
            transaction.on_commit(
                partial(_send_offer_task, sync_products_task, run, options, triggered_by)
            )
    return list(SyncRun.objects.filter(pk__in=[run.pk for run in runs]).order_by("id"))


def offer_syncs_resume_interrupted(*, triggered_by: str) -> list[SyncRun]:
    """Queue a full sync of every account whose last full pass a shutdown interrupted.

    Each continues from its checkpoint (the page after the last committed one); an account
    whose offer stream is busy is left alone. Return the queued runs.
    """
    from emag_sync.accounts import get_accounts

    interrupted = SyncState.objects.filter(
        account__in=list(get_accounts()),
        stream=SyncKind.OFFERS,
        mode=SyncMode.FULL,
        run__status=SyncStatus.INTERRUPTED,
    ).values_list("account", flat=True)
    queued = []
    for account in interrupted:
        try:
            queued += offer_syncs_enqueue(
                accounts=[account],
                options=OfferSyncOptions(mode=SyncMode.FULL),
                triggered_by=triggered_by,
            )
        except SyncAlreadyRunning:
            continue
    for run in queued:
        logger.info("Resuming the interrupted full sync of %s (run #%s)", run.account, run.pk)
    return queued


def offer_sync_enqueue(*, account: str, options: OfferSyncOptions, triggered_by: str) -> SyncRun:
    """Queue a sync of one account's offers for the workers; return the queued run."""
    return offer_syncs_enqueue(accounts=[account], options=options, triggered_by=triggered_by)[0]


def _claim_offer_runs(
    *, accounts: list[str], options: OfferSyncOptions, triggered_by: str
) -> list[SyncRun]:
    return sync_runs_claim(
        accounts=accounts,
        kind=SyncKind.OFFERS,
        mode=options.mode,
        conflict_strategy=options.conflict_strategy,
        parameters=options.as_parameters(),
        triggered_by=triggered_by,
    )


def _offer_sync_claimed(run: SyncRun, options: OfferSyncOptions, triggered_by: str) -> SyncRun:
    try:
        return offer_sync(
            account=run.account,
            options=copy.deepcopy(options),
            triggered_by=triggered_by,
            run_id=run.pk,
        )
    except SyncRunLost:
        # Cancelled between the claim and the start: the run already says so.
        pass
    except Exception:
        # offer_sync has recorded the failure on the run; the caller gets the run, not a crash.
        logger.exception("Offer sync of %s (run #%s) failed", run.account, run.pk)
    run.refresh_from_db()
    return run


def _send_offer_task(task, run: SyncRun, options: OfferSyncOptions, triggered_by: str) -> None:
    try:
        task.apply_async(
            kwargs={
                "account": run.account,
                "mode": options.mode,
                "conflict_strategy": options.conflict_strategy,
                "max_pages": options.max_pages,
                "include_inactive": options.include_inactive,
                "filters": options.filters,
                "ids": options.emag_ids,
                "skus": options.skus,
                "run_id": run.pk,
                "triggered_by": triggered_by,
            },
            task_id=sync_run_task_id(run.pk),
        )
    except Exception as error:
        # A broker that is down must not leave the run queued (and the account blocked)
        # until the reaper frees it an hour later.
        logger.exception("Could not queue the offer sync of run #%s", run.pk)
        sync_run_finish(
            run=run,
            status=SyncStatus.FAILED,
            errors=[{"message": f"could not queue the sync: {type(error).__name__}: {error}"}],
        )


# --- orders and their acknowledgement -------------------------------------------------------


def order_syncs_run(*, accounts: list[str], mode: str, since, triggered_by: str) -> list[SyncRun]:
    """Sync the accounts' orders now, one after the other, and return their finished runs."""
    from emag_sync.services.order_sync import order_sync

    runs = _claim_order_runs(accounts=accounts, mode=mode, since=since, triggered_by=triggered_by)
    finished = []
    for run in runs:
        try:
            finished.append(
                order_sync(
                    account=run.account,
                    mode=mode,
                    since=since,
                    triggered_by=triggered_by,
                    run_id=run.pk,
                )
            )
        except Exception:
            logger.exception("Order sync of %s (run #%s) failed", run.account, run.pk)
            run.refresh_from_db()
            finished.append(run)
    return finished


def order_syncs_enqueue(
    *, accounts: list[str], mode: str, since: date | None, triggered_by: str
) -> list[SyncRun]:
    """Queue an order sync of each account for the workers; return the queued runs."""
    from emag_sync.tasks import sync_orders_task

    # The task takes an ISO time with its zone; the order sync reads only its calendar day.
    since_text = datetime.combine(since, time.min, tzinfo=UTC).isoformat() if since else None

    def send(run: SyncRun) -> None:
        try:
            sync_orders_task.apply_async(
                kwargs={
                    "account": run.account,
                    "mode": mode,
                    "since": since_text,
                    "run_id": run.pk,
                    "triggered_by": triggered_by,
                },
                task_id=sync_run_task_id(run.pk),
            )
        except Exception as error:
            logger.exception("Could not queue the order sync of run #%s", run.pk)
            sync_run_finish(
                run=run,
                status=SyncStatus.FAILED,
                errors=[{"message": f"could not queue the sync: {type(error).__name__}: {error}"}],
            )

    with transaction.atomic():
        runs = _claim_order_runs(
            accounts=accounts, mode=mode, since=since, triggered_by=triggered_by
        )
        for run in runs:
            transaction.on_commit(partial(send, run))
    return list(SyncRun.objects.filter(pk__in=[run.pk for run in runs]).order_by("id"))


def orders_acknowledge_now(*, account: str, triggered_by: str) -> SyncRun:
    """Acknowledge the account's new orders now; raise SyncAlreadyRunning when busy."""
    from emag_sync.services.order_acknowledge import orders_acknowledge

    [run] = _claim_acknowledge_runs(accounts=[account], triggered_by=triggered_by)
    try:
        return orders_acknowledge(account=account, triggered_by=triggered_by, run_id=run.pk)
    except Exception:
        logger.exception("Acknowledging the orders of %s (run #%s) failed", account, run.pk)
        run.refresh_from_db()
        return run


def orders_acknowledge_enqueue(*, account: str, triggered_by: str) -> SyncRun:
    """Queue an acknowledge run of the account's new orders for the workers; return it.

    Raises SyncAlreadyRunning when the account's acknowledge stream is busy. The task is
    sent once the run is committed, so the worker always finds it queued.
    """
    from emag_sync.tasks import acknowledge_orders_task

    def send(run: SyncRun) -> None:
        try:
            acknowledge_orders_task.apply_async(
                kwargs={"account": run.account, "run_id": run.pk, "triggered_by": triggered_by},
                task_id=sync_run_task_id(run.pk),
            )
        except Exception as error:
            # As for syncs: a broker that is down must not leave the stream blocked.
            logger.exception("Could not queue the acknowledge run #%s", run.pk)
            sync_run_finish(
                run=run,
                status=SyncStatus.FAILED,
                errors=[{"message": f"could not queue the run: {type(error).__name__}: {error}"}],
            )

    with transaction.atomic():
        [run] = _claim_acknowledge_runs(accounts=[account], triggered_by=triggered_by)
        transaction.on_commit(lambda: send(run))
    return SyncRun.objects.get(pk=run.pk)


def _claim_acknowledge_runs(*, accounts: list[str], triggered_by: str) -> list[SyncRun]:
    # The same mode and parameters the acknowledge service claims its own runs with.
    return sync_runs_claim(
        accounts=accounts,
        kind=SyncKind.ACKNOWLEDGE,
        mode=SyncMode.SELECTIVE,
        conflict_strategy=ConflictStrategy.EMAG_PRIORITY,
        parameters={"status": NEW_ORDER_STATUS},
        triggered_by=triggered_by,
    )


def _claim_order_runs(
    *, accounts: list[str], mode: str, since: date | None, triggered_by: str
) -> list[SyncRun]:
    return sync_runs_claim(
        accounts=accounts,
        kind=SyncKind.ORDERS,
        mode=mode,
        conflict_strategy=ConflictStrategy.EMAG_PRIORITY,
        parameters={"since": since.isoformat() if since else None},
        triggered_by=triggered_by,
    )
